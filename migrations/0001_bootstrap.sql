-- The rt schema and the bookkeeping of applied migrations.
-- `rt-bridge migrate` applies each file of migrations/ once, in order, inside a transaction, and
-- records it here with an md5 checksum of its text; a changed applied file is refused.
CREATE SCHEMA IF NOT EXISTS rt;

COMMENT ON SCHEMA rt IS 'pgrt: rooms, members, events and the functions that change them';

CREATE TABLE IF NOT EXISTS rt.schema_migrations (
    version    integer     PRIMARY KEY CHECK (version > 0),
    name       text        NOT NULL UNIQUE,
    checksum   text        NOT NULL CHECK (checksum ~ '^[0-9a-f]{32}$'),
    applied_at timestamptz NOT NULL DEFAULT now()
);

REVOKE ALL ON rt.schema_migrations FROM PUBLIC;
