-- rt.schema_version(): the newest applied migration, so clients and bridges can check what they talk to.
CREATE OR REPLACE FUNCTION rt.schema_version() RETURNS integer
    LANGUAGE sql STABLE
    SET search_path = pg_catalog
AS $$ SELECT coalesce(max(version), 0) FROM rt.schema_migrations $$;

COMMENT ON FUNCTION rt.schema_version() IS 'Version number of the newest applied migration (0 when none).';
