-- polytag schema v1 (SQLite). Every key starts with app_id (Citus-ready on PostgreSQL).
CREATE TABLE apps (
  app_id       INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: caches key on it
  dialect      TEXT    NOT NULL,
  name         TEXT    NOT NULL UNIQUE,
  secret_hash  TEXT    NOT NULL DEFAULT '',
  secret       TEXT    NOT NULL DEFAULT '',
  config       TEXT    NOT NULL DEFAULT '{}',
  next_subject INTEGER NOT NULL DEFAULT 0,
  next_tag     INTEGER NOT NULL DEFAULT 0,
  next_group   INTEGER NOT NULL DEFAULT 0,
  mseq         INTEGER NOT NULL DEFAULT 0,
  folded_seq   INTEGER NOT NULL DEFAULT 0,
  created_at   REAL    NOT NULL DEFAULT 0
);
CREATE TABLE subjects (
  app_id      INTEGER NOT NULL,
  ord         INTEGER NOT NULL,
  ext_id      TEXT    NOT NULL,
  active      INTEGER NOT NULL DEFAULT 1,
  blacklisted INTEGER NOT NULL DEFAULT 0,
  remark      TEXT    NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL DEFAULT 0,
  props       TEXT    NOT NULL DEFAULT '{}',
  PRIMARY KEY (app_id, ord)
) WITHOUT ROWID;
CREATE UNIQUE INDEX subjects_ext ON subjects (app_id, ext_id);
CREATE INDEX subjects_ext_any ON subjects (ext_id);
CREATE INDEX subjects_black ON subjects (app_id, ord) WHERE blacklisted = 1;
CREATE TABLE tag_groups (
  app_id     INTEGER NOT NULL,
  ord        INTEGER NOT NULL,
  ext_id     TEXT    NOT NULL,
  name       TEXT    NOT NULL,
  sort_order INTEGER NOT NULL DEFAULT 0,
  created_ms INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (app_id, ord)
) WITHOUT ROWID;
CREATE UNIQUE INDEX tag_groups_ext ON tag_groups (app_id, ext_id);
CREATE TABLE tags (
  app_id     INTEGER NOT NULL,
  ord        INTEGER NOT NULL,
  ext_id     TEXT    NOT NULL,
  name       TEXT    NOT NULL,
  group_ord  INTEGER,
  sort_order INTEGER NOT NULL DEFAULT 0,
  created_ms INTEGER NOT NULL DEFAULT 0,
  version    INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (app_id, ord)
) WITHOUT ROWID;
CREATE UNIQUE INDEX tags_ext ON tags (app_id, ext_id);
CREATE INDEX tags_name ON tags (app_id, name);
-- Memberships: an append-only log of effective batch changes (subjects as a portable roaring
-- bitmap), folded now and then into per-tag chunks of 65,536 ordinals. Log ⊕ chunks = the truth.
CREATE TABLE membership_log (
  app_id   INTEGER NOT NULL,
  seq      INTEGER NOT NULL,
  tag_ord  INTEGER NOT NULL,
  op       INTEGER NOT NULL,
  subjects BLOB    NOT NULL,
  PRIMARY KEY (app_id, seq)
) WITHOUT ROWID;
CREATE TABLE tag_chunks (
  app_id  INTEGER NOT NULL,
  tag_ord INTEGER NOT NULL,
  chunk   INTEGER NOT NULL,
  bits    BLOB    NOT NULL,
  PRIMARY KEY (app_id, tag_ord, chunk)
);
CREATE TABLE tokens (
  token_hash TEXT    PRIMARY KEY,
  app_id     INTEGER NOT NULL,
  kind       TEXT    NOT NULL,
  issued_at  REAL    NOT NULL,
  expires_at REAL    NOT NULL,
  reissue    TEXT    NOT NULL DEFAULT ''  -- only for tokens that must be handed out again (stable_token)
);
CREATE INDEX tokens_app ON tokens (app_id, kind, issued_at);
