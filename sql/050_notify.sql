-- Channels and the one NOTIFY helper. Channel naming, payload size and the reference fallback live
-- here and nowhere else.
--
-- Channels (measured; docs/benchmarks.md "NOTIFY channels"): room events go to one of 16 channels
-- rt_rooms_0 .. rt_rooms_f, chosen by the first hex digit of md5(room id); system frames go to
-- rt_system. A bridge LISTENs to all 17 (rt.channels()). Few fixed channels keep each listening
-- backend's per-notification channel scan short, and let a psql user watch one room with a 1/16
-- share of the traffic. md5 (not hashtext) because the mapping must never change across versions.

-- PL/pgSQL, not SQL, because it runs for every event: see rt.setting() in 020_settings.sql.
CREATE OR REPLACE FUNCTION rt.room_channel(room text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$ BEGIN RETURN 'rt_rooms_' || left(md5(room), 1); END $$;

COMMENT ON FUNCTION rt.room_channel(text) IS
    'The channel that carries a room''s events and signals: LISTEN to it to watch the room (payloads name their room).';

CREATE OR REPLACE FUNCTION rt.system_channel() RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$ SELECT 'rt_system'::text $$;

COMMENT ON FUNCTION rt.system_channel() IS 'The channel that carries system frames (notify_user, broadcast).';

CREATE OR REPLACE FUNCTION rt.channels() RETURNS SETOF text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT 'rt_rooms_' || to_hex(n) FROM generate_series(0, 15) AS n
    UNION ALL
    SELECT rt.system_channel()
$$;

COMMENT ON FUNCTION rt.channels() IS 'Every channel a bridge must LISTEN to: the 16 room channels and the system channel.';

-- The largest frame a NOTIFY carries: pg_notify accepts 7999 bytes (8000 fails and aborts the
-- transaction), less the authentication tag rt.notify_sign appends (sql/055_notify_auth.sql).
CREATE OR REPLACE FUNCTION rt.notify_max_bytes() RETURNS integer
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$ BEGIN RETURN 7999 - 85; END $$;

COMMENT ON FUNCTION rt.notify_max_bytes() IS 'Internal: the largest frame a NOTIFY carries (7999 bytes less the tag), in bytes.';

-- rt.notification: the NOTIFY (channel and payload) that carries one wire frame. This is the ONE place
-- that turns a frame into what is sent: every NOTIFY of pgrt, from single calls and from the set-based
-- write path alike, goes through rt.emit (rt.emit_all for a set), which sends what this returns,
-- authenticated by rt.notify_sign (the tag the bridge checks and strips).
-- A frame with "room" goes to the room's channel, anything else to the system channel. A persisted
-- event too large for NOTIFY is announced as {"type":"ref","room":R,"seq":N}, which a bridge resolves
-- with rt.events_since(R, N - 1, 1); a frame without seq cannot be fetched later, so it is refused.
CREATE OR REPLACE FUNCTION rt.notification(frame jsonb, OUT channel text, OUT payload text)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    payload := frame::text;
    IF frame ? 'room' THEN
        channel := rt.room_channel(frame ->> 'room');
    ELSE
        channel := rt.system_channel();
    END IF;
    IF octet_length(payload) > rt.notify_max_bytes() THEN
        IF frame ? 'seq' THEN
            payload := jsonb_build_object('type', 'ref', 'room', frame -> 'room', 'seq', frame -> 'seq')::text;
        ELSE
            PERFORM rt.raise('TOO_LARGE',
                             format('this %s is %s bytes; live-only frames are limited to %s bytes',
                                    CASE WHEN frame ? 'room' THEN 'signal' ELSE 'system frame' END,
                                    octet_length(payload), rt.notify_max_bytes()));
        END IF;
    END IF;
END
$$;

COMMENT ON FUNCTION rt.notification(jsonb) IS
    'Internal: the channel and payload that carry a wire frame (a ref for persisted events over rt.notify_max_bytes(); TOO_LARGE for others).';

-- rt.emit: NOTIFY one wire frame, authenticated (rt.notify_sign), and return the frame as clients
-- receive it (the bridge strips the tag).
CREATE OR REPLACE FUNCTION rt.emit(frame jsonb) RETURNS text
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n      record;
    v_void text;
BEGIN
    n := rt.notification(frame);
    -- An assignment, not PERFORM: a simple expression skips the executor (pg_notify returns void).
    v_void := pg_notify(n.channel, rt.notify_sign(n.payload))::text;
    RETURN n.payload;
END
$$;

COMMENT ON FUNCTION rt.emit(jsonb) IS
    'Internal: NOTIFY a wire frame on its channel, tagged (see rt.notification); returns the frame as clients receive it.';

-- rt.emit_all: NOTIFY many wire frames, in their order, as rt.emit would one by one (the same
-- rt.notification, the same rt.notify_sign); the set path's notifications. One call for the set and
-- no statement per frame: the emit call and its PERFORM per event cost ~8 µs. Returns what was
-- sent, one row per frame in order: its channel and the frame as clients receive it.
CREATE OR REPLACE FUNCTION rt.emit_all(frames jsonb[]) RETURNS TABLE (channel text, payload text)
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n       record;
    v_frame jsonb;
    v_void  text;
BEGIN
    -- Assignments, not statements: simple expressions skip the executor.
    FOREACH v_frame IN ARRAY frames LOOP
        n := rt.notification(v_frame);
        v_void := pg_notify(n.channel, rt.notify_sign(n.payload))::text;
        channel := n.channel;
        payload := n.payload;
        RETURN NEXT;
    END LOOP;
END
$$;

COMMENT ON FUNCTION rt.emit_all(jsonb[]) IS
    'Internal: NOTIFY wire frames in order, tagged, as rt.emit does one; their channels and frames as clients receive them.';
