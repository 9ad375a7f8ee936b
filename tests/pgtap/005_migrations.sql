-- The migrations bookkeeping and rt.schema_version(): what `rt-bridge migrate` records.
BEGIN;
SELECT plan(10);

SELECT has_schema('rt', 'schema rt exists');
SELECT has_table('rt', 'schema_migrations', 'the bookkeeping table exists');
SELECT col_is_pk('rt', 'schema_migrations', 'version', 'one row per migration version');
SELECT col_not_null('rt', 'schema_migrations', 'checksum', 'every applied migration has a checksum');

SELECT ok((SELECT bool_and(checksum ~ '^[0-9a-f]{32}$') FROM rt.schema_migrations),
          'checksums are md5 hex digests');
SELECT ok((SELECT bool_and(name ~ '^[0-9]{4}_[a-z0-9_]+\.sql$' AND left(name, 4)::int = version)
             FROM rt.schema_migrations),
          'each row names its NNNN_name.sql file and its version matches');
SELECT is((SELECT count(*) FROM rt.schema_migrations WHERE version = 1), 1::bigint,
          'the bootstrap migration is recorded');

SELECT has_function('rt', 'schema_version', ARRAY[]::text[], 'rt.schema_version() exists');
SELECT is(rt.schema_version(), (SELECT max(version) FROM rt.schema_migrations),
          'schema_version() is the newest applied migration');

SELECT throws_ok($$INSERT INTO rt.schema_migrations (version, name, checksum) VALUES (0, 'x', 'bad')$$,
                 '23514', NULL, 'the bookkeeping refuses a malformed row');

SELECT * FROM finish();
ROLLBACK;
