-- External contacts: members, customers, friendships (PostgreSQL): the SQLite 0003 translated. Every key starts with app_id.
-- Corp members (staff, by userid) and customers (external contacts, by unionId).
CREATE TABLE contact_members (
  app_id     BIGINT  NOT NULL,
  user_id    TEXT    NOT NULL,
  created_at BIGINT  NOT NULL DEFAULT 0,
  PRIMARY KEY (app_id, user_id)
);
CREATE TABLE contact_customers (
  app_id     BIGINT  NOT NULL,
  union_id   TEXT    NOT NULL,
  created_at BIGINT  NOT NULL DEFAULT 0,
  PRIMARY KEY (app_id, union_id)
);
-- A friendship is a (customer, member) pair; tags are marked per pair, so each pair is a subject.
CREATE TABLE contact_friends (
  app_id      BIGINT  NOT NULL,
  union_id    TEXT    NOT NULL,
  user_id     TEXT    NOT NULL,
  subject_ord BIGINT  NOT NULL,
  PRIMARY KEY (app_id, union_id, user_id)
);
-- Telling "another app's id" (-2) from "nobody's id" needs ext ids looked up across apps.
CREATE INDEX tags_ext_any ON tags (ext_id);
CREATE INDEX tag_groups_ext_any ON tag_groups (ext_id);
