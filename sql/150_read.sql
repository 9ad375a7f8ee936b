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

-- The most bytes of event JSON one history reply carries (docs/protocol.md "history"): a quarter of
-- the bridge's default --max-queue-bytes (1 MiB) and 4 maximal events (max_event_bytes 64 KiB), so a
-- reply never outgrows the send queue that must hold it. A single event larger than this still
-- comes, alone: a page always makes progress.
CREATE OR REPLACE FUNCTION rt.history_max_bytes() RETURNS integer
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$ BEGIN RETURN 262144; END $$;

COMMENT ON FUNCTION rt.history_max_bytes() IS 'The byte budget of one history reply''s events (256 KiB).';

-- rt.history_page: the history reply of a client frame: {"events": [...]} plus "more": true when
-- older events exist, which the client reads with before = events[0].seq. The newest `max` events
-- before before_seq, cut (oldest first) to rt.history_max_bytes().
CREATE OR REPLACE FUNCTION rt.history_page(room text, before_seq bigint, max integer, actor text) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_events jsonb;
    v_first  bigint;
BEGIN
    SELECT jsonb_agg(p.j ORDER BY p.seq), min(p.seq) INTO v_events, v_first
      FROM (SELECT s.seq, s.j
              FROM (SELECT h.e AS j, (h.e ->> 'seq')::bigint AS seq,
                           sum(octet_length(h.e::text)) OVER (ORDER BY (h.e ->> 'seq')::bigint DESC) AS running,
                           octet_length(h.e::text) AS bytes
                      FROM rt.history(room, before_seq, max, actor) AS h (e)) s
             WHERE s.running <= rt.history_max_bytes() OR s.running = s.bytes) p;
    v_events := jsonb_build_object('events', coalesce(v_events, '[]'::jsonb));
    IF v_first IS NOT NULL AND EXISTS (SELECT 1 FROM rt.events x WHERE x.room = history_page.room AND x.seq < v_first) THEN
        v_events := v_events || '{"more": true}';
    END IF;
    RETURN v_events;
END
$$;

COMMENT ON FUNCTION rt.history_page(text, bigint, integer, text) IS
    'Internal: a history reply {events[, more: true]}: at most max events and rt.history_max_bytes() bytes of them (one event at least).';

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
