-- The two AFTER INSERT triggers of rt.events (events_audit, events_index_transcript) become one,
-- events_appended (sql/265_event_appended.sql, which says why): the old triggers and their
-- functions go here, before the sql/ files create the new one. They were created by the sql/ files,
-- so a new database has none of them yet.
DROP TRIGGER IF EXISTS events_audit ON rt.events;
DROP TRIGGER IF EXISTS events_index_transcript ON rt.events;
DROP FUNCTION IF EXISTS rt.audit_event();
DROP FUNCTION IF EXISTS rt.index_transcript();
