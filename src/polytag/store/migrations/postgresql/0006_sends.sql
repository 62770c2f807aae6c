-- Messages sent to an audience (PostgreSQL): the SQLite 0005 translated. Every key starts with app_id.
-- One row per accepted send, with the audience it resolved to at send time as a roaring bitmap.
CREATE TABLE sends (
  app_id        BIGINT  NOT NULL,
  seq           BIGINT  NOT NULL,
  ext_id        TEXT    NOT NULL,
  created_at    DOUBLE PRECISION NOT NULL,
  kind          TEXT    NOT NULL,
  target        TEXT    NOT NULL DEFAULT '',
  msgtype       TEXT    NOT NULL DEFAULT '',
  message       TEXT    NOT NULL DEFAULT '{}',
  options       TEXT    NOT NULL DEFAULT '{}',
  dedupe_key    TEXT    NOT NULL DEFAULT '',
  counted       BIGINT  NOT NULL DEFAULT 1,
  status        TEXT    NOT NULL DEFAULT 'sent',
  audience_size BIGINT  NOT NULL DEFAULT 0,
  members       BYTEA   NOT NULL,
  PRIMARY KEY (app_id, seq)
);
CREATE UNIQUE INDEX sends_ext ON sends (app_id, ext_id);
CREATE INDEX sends_key ON sends (app_id, dedupe_key, created_at);
CREATE INDEX sends_time ON sends (app_id, created_at);
-- The pace an app sends at (a level; what it means is the dialect's).
CREATE TABLE send_pace (
  app_id BIGINT  NOT NULL,
  level  BIGINT  NOT NULL DEFAULT 0,
  PRIMARY KEY (app_id)
);
