-- A subject's other apps are looked up by (app_id, ext_id), one probe per app, on the
-- error path only (49003): the extra ext_id index cost every subject insert a third B-tree.
DROP INDEX subjects_ext_any;
