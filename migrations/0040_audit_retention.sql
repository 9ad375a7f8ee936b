-- Audit trail, retention policies per room kind and per room, and legal holds.
-- docs/sql-api.md "Audit trail" and "Retention and legal holds".

-- Who may erase users, place legal holds, set retention per kind and read the audit trail: an
-- operator or compliance service, never a room owner. Roles are cluster-wide (see 0002_roles.sql).
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'rt_compliance') THEN
        BEGIN
            CREATE ROLE rt_compliance NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- created by a concurrent migration of another database
        END;
    END IF;
END
$roles$;

COMMENT ON ROLE rt_compliance IS
    'pgrt: operators and compliance services (erase users, legal holds, retention per kind, audit trail)';

-- One row per change of membership, roles, room state, title/meta, retention, legal holds and per
-- erasure. Rows are never updated or deleted: no role holds UPDATE, DELETE or TRUNCATE on it, and
-- triggers (sql/240_audit.sql) refuse them even to the table's owner. No foreign key to rt.rooms:
-- the trail outlives rooms and the events that recorded it (retention prunes events, not this).
CREATE TABLE rt.audit (
    id      bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    action  text        NOT NULL CHECK (action ~ '^[a-z][a-z0-9_]{0,63}$'),
    room    text,
    -- the acting user the call named; NULL for a trusted call (then db_user tells who)
    actor   text,
    -- the database login that made the call (session_user: unchanged inside SECURITY DEFINER)
    db_user text        NOT NULL DEFAULT session_user,
    -- the event that carried the change, when one did
    seq     bigint,
    detail  jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(detail) = 'object')
);

CREATE INDEX audit_room_idx ON rt.audit (room, id);
CREATE INDEX audit_at_idx ON rt.audit (at);

-- Retention as data. The most specific row wins as a whole: a room's row, else its kind's row, else
-- the `retention` setting (age only). In a row, keep_days limits age and keep_events keeps only the
-- newest N events; NULL means no limit of that sort (both NULL: keep everything).
CREATE TABLE rt.kind_retention (
    kind        text        PRIMARY KEY REFERENCES rt.room_kinds (kind),
    keep_days   integer     CHECK (keep_days BETWEEN 1 AND 36500),
    keep_events bigint      CHECK (keep_events BETWEEN 1 AND 1000000000000),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE rt.room_retention (
    room        text        PRIMARY KEY REFERENCES rt.rooms (id) ON DELETE CASCADE,
    keep_days   integer     CHECK (keep_days BETWEEN 1 AND 36500),
    keep_events bigint      CHECK (keep_events BETWEEN 1 AND 1000000000000),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- A legal hold on a room or on every room of a kind: while one applies, rt.prune_events removes
-- nothing from the room.
CREATE TABLE rt.legal_holds (
    id      bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    room    text        UNIQUE REFERENCES rt.rooms (id) ON DELETE CASCADE,
    kind    text        UNIQUE REFERENCES rt.room_kinds (kind),
    reason  text        NOT NULL CHECK (char_length(reason) BETWEEN 1 AND 500 AND reason !~ '[[:cntrl:]]'),
    held_by text        NOT NULL CHECK (char_length(held_by) BETWEEN 1 AND 128 AND held_by !~ '[[:cntrl:]]'),
    held_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((room IS NULL) <> (kind IS NULL))
);

REVOKE ALL ON rt.audit, rt.kind_retention, rt.room_retention, rt.legal_holds FROM PUBLIC;
