-- The role comments cite the project's own documentation (0002 was amended to match; see
-- migrations/amended.txt), so a database migrated before that amendment reads the same.
COMMENT ON ROLE rt_service IS 'pgrt: SQL clients, services and people (the rt.* API of docs/sql-api.md)';
