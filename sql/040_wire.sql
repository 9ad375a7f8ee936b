-- The wire shapes of docs/protocol.md ("Frames"), built in one place. Every function that returns an event
-- and every NOTIFY payload uses these, so SQL clients and WebSocket clients see identical JSON.

-- These are PL/pgSQL rather than SQL functions because they run for every event: see
-- rt.setting() in 020_settings.sql for why that is cheaper.

-- ISO 8601 in UTC with microseconds and a Z, e.g. 2026-11-22T07:40:00.123456Z.
CREATE OR REPLACE FUNCTION rt.format_at(at timestamptz) RETURNS text
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$ BEGIN RETURN to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'); END $$;

COMMENT ON FUNCTION rt.format_at(timestamptz) IS 'Internal: a timestamp as ISO 8601 UTC with microseconds and Z.';

-- A room event: persisted when seq is given, a signal (no "seq" key) when seq is NULL.
CREATE OR REPLACE FUNCTION rt.event_json(room text, seq bigint, event text, actor text,
                                         at timestamptz, data jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    e jsonb := jsonb_build_object('type', 'event', 'room', room, 'seq', seq, 'event', event,
                                  'actor', actor, 'at', rt.format_at(at), 'data', coalesce(data, '{}'::jsonb));
BEGIN
    RETURN CASE WHEN seq IS NULL THEN e - 'seq' ELSE e END;
END
$$;

COMMENT ON FUNCTION rt.event_json(text, bigint, text, text, timestamptz, jsonb) IS
    'The wire shape of an event: {"type":"event","room","seq","event","actor","at","data"}; no seq for signals.';

-- A stored event row in wire shape.
CREATE OR REPLACE FUNCTION rt.event_json(e rt.events) RETURNS jsonb
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$ BEGIN RETURN rt.event_json(e.room, e.seq, e.event, e.actor, e.at, e.data); END $$;

COMMENT ON FUNCTION rt.event_json(rt.events) IS 'A stored event in wire shape.';

-- A system frame: {"type":"system","event","data"} plus "user" when addressed to one user
-- (bridges route on it; clients may ignore it).
CREATE OR REPLACE FUNCTION rt.system_json(event text, data jsonb, user_id text DEFAULT NULL) RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_build_object('type', 'system', 'event', event, 'data', coalesce(data, '{}'::jsonb))
           || CASE WHEN user_id IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('user', user_id) END
$$;

COMMENT ON FUNCTION rt.system_json(text, jsonb, text) IS
    'The wire shape of a system frame: {"type":"system","event","data"} (+ "user" for one user).';
