-- Database roles that may call the rt functions and nothing else.
-- Roles are cluster-wide, so another database of the same cluster may create them first, even
-- concurrently: creation is idempotent and tolerates losing that race.
DO $roles$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['rt_bridge', 'rt_service'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;  -- created by a concurrent migration of another database
            END;
        END IF;
    END LOOP;
END
$roles$;

COMMENT ON ROLE rt_bridge IS 'pgrt: WebSocket bridges (rt.dispatch, rt.batch, presence, replay)';
COMMENT ON ROLE rt_service IS 'pgrt: SQL clients, services and people (the rt.* API of docs/sql-api.md)';

-- Functions created later in this schema are not executable by PUBLIC until granted
-- (sql/900_grants.sql grants them explicitly).
ALTER DEFAULT PRIVILEGES IN SCHEMA rt REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
REVOKE ALL ON SCHEMA rt FROM PUBLIC;
