-- Attribute and push tables (SQLite). Every key starts with app_id.
-- Attribute names: an app has slots "0".."9", each with a name (im_set_attr_name).
CREATE TABLE im_attr_names (
  app_id INTEGER NOT NULL,
  slot   INTEGER NOT NULL,
  name   TEXT    NOT NULL,
  PRIMARY KEY (app_id, slot)
) WITHOUT ROWID;
-- A subject's attribute values, by slot (a renamed slot keeps its values).
CREATE TABLE im_subject_attrs (
  app_id INTEGER NOT NULL,
  ord    INTEGER NOT NULL,
  slot   INTEGER NOT NULL,
  value  TEXT    NOT NULL,
  PRIMARY KEY (app_id, ord, slot)
) WITHOUT ROWID;
CREATE INDEX im_subject_attrs_value ON im_subject_attrs (app_id, slot, value);
-- The push log: one row per accepted im_push task, with its audience as a roaring bitmap.
CREATE TABLE im_pushes (
  app_id        INTEGER NOT NULL,
  task_id       TEXT    NOT NULL,
  msg_random    INTEGER NOT NULL,
  created_at    REAL    NOT NULL,
  condition     TEXT    NOT NULL DEFAULT '',
  from_account  TEXT    NOT NULL DEFAULT '',
  lifetime      INTEGER NOT NULL DEFAULT 0,
  audience_size INTEGER NOT NULL DEFAULT 0,
  members       BLOB    NOT NULL,
  PRIMARY KEY (app_id, task_id)
);
CREATE INDEX im_pushes_random ON im_pushes (app_id, msg_random, created_at);
CREATE INDEX im_pushes_time ON im_pushes (app_id, created_at);
