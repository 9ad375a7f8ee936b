-- Maintenance mode, kept in the database so that every bridge follows one switch.

-- rt.maintenance(): {"active": bool, "message": text|null, "since": ISO8601}.
CREATE OR REPLACE FUNCTION rt.maintenance() RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_build_object('active', m.active, 'message', m.message,
                              'since', to_char(m.since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
      FROM rt.maintenance m
$$;

COMMENT ON FUNCTION rt.maintenance() IS 'The maintenance state: {active, message, since}.';

-- rt.set_maintenance: switch maintenance on (with a message for users) or off. Every bridge gets a
-- `maintenance` system frame on the system channel, forwards it to its clients, and refuses (or
-- again accepts) new upgrades; no restart is needed.
CREATE OR REPLACE FUNCTION rt.set_maintenance(active boolean, message text DEFAULT NULL) RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_state jsonb;
BEGIN
    IF active IS NULL THEN
        PERFORM rt.raise('BAD_REQUEST', '"active" must be true or false');
    END IF;
    IF message IS NOT NULL AND (char_length(message) NOT BETWEEN 1 AND 500 OR message ~ '[[:cntrl:]]') THEN
        PERFORM rt.raise('BAD_REQUEST', 'the message must be 1-500 characters without control characters');
    END IF;
    UPDATE rt.maintenance m
       SET active = set_maintenance.active,
           message = CASE WHEN set_maintenance.active THEN set_maintenance.message END,
           since = now();
    v_state := rt.maintenance();
    PERFORM rt.emit(rt.system_json('maintenance', v_state));
    RETURN v_state;
END
$$;

COMMENT ON FUNCTION rt.set_maintenance(boolean, text) IS
    'Switch maintenance mode on (new upgrades refused with 503 on every bridge, clients told) or off.';
