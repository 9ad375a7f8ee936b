-- Reading: read markers, history pages, replay. Reads keep working after a room has ended.

-- rt.mark_read: remember that user_id has read up to seq (it never moves backwards) and send a
-- `read` signal {user, seq} when it advanced.
CREATE OR REPLACE FUNCTION rt.mark_read(room text, user_id text, seq bigint) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r rt.rooms;
BEGIN
    PERFORM rt.check_room_id(room);
    PERFORM rt.check_ident(user_id, 'user_id');
    PERFORM rt.check_seq(seq, 'seq');
    r := rt.room_for(room, user_id, 'read', false);
    IF seq > r.last_seq THEN
        PERFORM rt.raise('BAD_REQUEST', format('room %s has no event %s yet (latest is %s)', room, seq, r.last_seq));
    END IF;
    UPDATE rt.members m SET last_read_seq = mark_read.seq
     WHERE m.room = mark_read.room AND m.user_id = mark_read.user_id AND m.last_read_seq < mark_read.seq;
    IF FOUND THEN
        PERFORM rt.send_signal(room, 'read', user_id, jsonb_build_object('user', user_id, 'seq', seq));
    END IF;
END
$$;

COMMENT ON FUNCTION rt.mark_read(text, text, bigint) IS
    'Record that a member read up to seq (never backwards); signals read {user, seq} when it advanced.';

-- rt.history: the newest `max` events with seq < before_seq (or the newest overall), ascending.
-- actor, when given, must have the read right; when NULL the call is trusted.
CREATE OR REPLACE FUNCTION rt.history(room text, before_seq bigint DEFAULT NULL, max integer DEFAULT 50,
                                      actor text DEFAULT NULL) RETURNS SETOF jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM rt.check_room_id(room);
    PERFORM rt.check_ident(actor, 'actor', required => false);
    IF before_seq IS NOT NULL THEN
        PERFORM rt.check_seq(before_seq, 'before_seq', 1);
    END IF;
    PERFORM rt.check_limit(max, 'max');
    PERFORM rt.room_for(room, actor, 'read', false);
    RETURN QUERY
        SELECT rt.event_json(e.room, e.seq, e.event, e.actor, e.at, e.data)
          FROM (SELECT * FROM rt.events x
                 WHERE x.room = history.room AND x.seq < coalesce(before_seq, 9223372036854775807)
                 ORDER BY x.seq DESC
                 LIMIT max) e
         ORDER BY e.seq;
END
$$;

COMMENT ON FUNCTION rt.history(text, bigint, integer, text) IS
    'The newest max (1..1000) events before before_seq, in ascending seq; actor (optional) needs the read right.';

-- rt.events_since: up to `max` events with seq > after_seq, ascending: replay for a (re)joining
-- client and resolution of NOTIFY references. Events removed by retention are simply absent (see
-- rt.join's "recovered").
CREATE OR REPLACE FUNCTION rt.events_since(room text, after_seq bigint, max integer DEFAULT 1000,
                                           actor text DEFAULT NULL) RETURNS SETOF jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM rt.check_room_id(room);
    PERFORM rt.check_ident(actor, 'actor', required => false);
    PERFORM rt.check_seq(after_seq, 'after_seq');
    PERFORM rt.check_limit(max, 'max');
    PERFORM rt.room_for(room, actor, 'read', false);
    RETURN QUERY
        SELECT rt.event_json(e)
          FROM rt.events e
         WHERE e.room = events_since.room AND e.seq > after_seq
         ORDER BY e.seq
         LIMIT max;
END
$$;

COMMENT ON FUNCTION rt.events_since(text, bigint, integer, text) IS
    'Up to max (1..1000) events after after_seq, ascending; actor (optional) needs the read right.';
