-- System frames: to every connection of one user, or to every connection.

-- rt.notify_user: {"type":"system","event","data","user"} on the system channel; bridges deliver it
-- to all of that user's connections. Not stored; must fit one NOTIFY payload (else TOO_LARGE).
CREATE OR REPLACE FUNCTION rt.notify_user(user_id text, event text, data jsonb) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM rt.check_ident(user_id, 'user_id');
    PERFORM rt.check_event_name(event);
    PERFORM rt.check_object(data, 'data', rt.notify_max_bytes());
    PERFORM rt.emit(rt.system_json(event, data, user_id));
END
$$;

COMMENT ON FUNCTION rt.notify_user(text, text, jsonb) IS 'Send a system frame to all connections of one user (not stored).';

-- rt.broadcast: {"type":"system","event","data"} to every connection of every bridge.
CREATE OR REPLACE FUNCTION rt.broadcast(event text, data jsonb) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM rt.check_event_name(event);
    PERFORM rt.check_object(data, 'data', rt.notify_max_bytes());
    PERFORM rt.emit(rt.system_json(event, data));
END
$$;

COMMENT ON FUNCTION rt.broadcast(text, jsonb) IS 'Send a system frame to every connection (not stored).';
