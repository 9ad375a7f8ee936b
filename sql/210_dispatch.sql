-- rt.dispatch: one client frame of docs/protocol.md ("Frames"), executed for an authenticated user on one
-- connection of one bridge. The bridge handles auth and ping itself and sends everything else here.

-- Frame field readers: a clear BAD_REQUEST naming the field when it is missing or of the wrong JSON
-- type. JSON null counts as absent.
CREATE OR REPLACE FUNCTION rt.frame_string(frame jsonb, field text, required boolean) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v jsonb := frame -> field;
BEGIN
    IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
        IF required THEN
            PERFORM rt.raise('BAD_REQUEST', format('"%s" is required', field));
        END IF;
        RETURN NULL;
    ELSIF jsonb_typeof(v) <> 'string' THEN
        PERFORM rt.raise('BAD_REQUEST', format('"%s" must be a string', field));
    END IF;
    RETURN v #>> '{}';
END
$$;

COMMENT ON FUNCTION rt.frame_string(jsonb, text, boolean) IS 'Internal: a string field of a frame, or BAD_REQUEST.';

CREATE OR REPLACE FUNCTION rt.frame_int(frame jsonb, field text, required boolean) RETURNS bigint
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v jsonb := frame -> field;
BEGIN
    IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
        IF required THEN
            PERFORM rt.raise('BAD_REQUEST', format('"%s" is required', field));
        END IF;
        RETURN NULL;
    ELSIF jsonb_typeof(v) <> 'number' OR v::text !~ '^-?[0-9]{1,18}$' THEN
        PERFORM rt.raise('BAD_REQUEST', format('"%s" must be an integer', field));
    END IF;
    RETURN v::text::bigint;
END
$$;

COMMENT ON FUNCTION rt.frame_int(jsonb, text, boolean) IS 'Internal: an integer field of a frame, or BAD_REQUEST.';

CREATE OR REPLACE FUNCTION rt.frame_object(frame jsonb, field text, required boolean) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v jsonb := frame -> field;
BEGIN
    IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
        IF required THEN
            PERFORM rt.raise('BAD_REQUEST', format('"%s" is required', field));
        END IF;
        RETURN NULL;
    ELSIF jsonb_typeof(v) <> 'object' THEN
        PERFORM rt.raise('BAD_REQUEST', format('"%s" must be an object', field));
    END IF;
    RETURN v;
END
$$;

COMMENT ON FUNCTION rt.frame_object(jsonb, text, boolean) IS 'Internal: an object field of a frame, or BAD_REQUEST.';

-- rt.dispatch: execute a join, leave, send, publish, signal, state, edit, delete, read, history,
-- roster or search frame and return the reply's `data`:
--   send, publish, state, edit, delete -> the event (wire shape), so the client learns its seq
--   history -> {"events": [...]} + "more": true when older events exist (bounded in bytes: rt.history_page)
--   search  -> {"results": [...]} (rt.dispatch_search in 260_search.sql)
--   join    -> {room, kind, seq, state, version, presence, recovered, role} (+ occupancy above the
--              room's presence threshold: docs/protocol.md "Presence and occupancy")
--   roster  -> {room, occupancy, users, next}: one page of who is online (rt.roster)
--   leave, signal, read -> {}
-- Unknown extra fields (and "ref") are ignored. A room the user may not see is FORBIDDEN whether or
-- not it exists.
CREATE OR REPLACE FUNCTION rt.dispatch(bridge_id text, conn_id text, user_id text, frame jsonb) RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_type   text;
    v_room   text;
    v_expect bigint;
    v_limit  bigint;
BEGIN
    PERFORM rt.check_ident(bridge_id, 'bridge_id');
    PERFORM rt.check_ident(conn_id, 'conn_id');
    PERFORM rt.check_ident(user_id, 'user_id');
    IF frame IS NULL OR jsonb_typeof(frame) <> 'object' THEN
        PERFORM rt.raise('BAD_REQUEST', 'a frame must be a JSON object');
    END IF;
    v_type := rt.frame_string(frame, 'type', true);
    IF v_type NOT IN ('join', 'leave', 'send', 'publish', 'signal', 'state', 'edit', 'delete', 'read', 'history',
                      'roster', 'search') THEN
        PERFORM rt.raise('BAD_REQUEST', format('unknown frame type %L', left(v_type, 32)));
    END IF;
    -- search is the one frame whose room is optional (docs/protocol.md "Search").
    IF v_type = 'search' THEN
        RETURN rt.dispatch_search(user_id, frame);
    END IF;
    v_room := rt.frame_string(frame, 'room', true);
    PERFORM rt.check_room_id(v_room);

    CASE v_type
    WHEN 'join' THEN
        RETURN rt.join_room(bridge_id, conn_id, user_id, v_room, rt.frame_int(frame, 'since', false));
    WHEN 'leave' THEN
        PERFORM rt.leave_room(bridge_id, conn_id, user_id, v_room);
        RETURN '{}'::jsonb;
    WHEN 'send' THEN
        RETURN rt.post_message(v_room, user_id, rt.frame_string(frame, 'body', true),
                               rt.frame_string(frame, 'media_url', false),
                               coalesce(rt.frame_object(frame, 'meta', false), '{}'::jsonb),
                               rt.frame_string(frame, 'client_msg_id', false));
    WHEN 'publish' THEN
        RETURN rt.publish(v_room, user_id, rt.frame_string(frame, 'event', true),
                          rt.frame_object(frame, 'data', true));
    WHEN 'signal' THEN
        PERFORM rt.signal(v_room, user_id, rt.frame_string(frame, 'event', true),
                          rt.frame_object(frame, 'data', true));
        RETURN '{}'::jsonb;
    WHEN 'state' THEN
        v_expect := rt.frame_int(frame, 'expect', false);
        IF v_expect NOT BETWEEN 0 AND 2147483647 THEN
            PERFORM rt.raise('BAD_REQUEST', '"expect" must be a version between 0 and 2147483647');
        END IF;
        RETURN rt.transition(v_room, user_id, rt.frame_string(frame, 'to', true), v_expect::integer);
    WHEN 'edit' THEN
        RETURN rt.edit_message(v_room, user_id, rt.frame_int(frame, 'seq', true), rt.frame_string(frame, 'body', true));
    WHEN 'delete' THEN
        RETURN rt.delete_message(v_room, user_id, rt.frame_int(frame, 'seq', true));
    WHEN 'read' THEN
        PERFORM rt.mark_read(v_room, user_id, rt.frame_int(frame, 'seq', true));
        RETURN '{}'::jsonb;
    WHEN 'history' THEN
        -- Checked here too so the message names the frame's field ("before"), not the function's.
        IF rt.frame_int(frame, 'before', false) IS NOT NULL THEN
            PERFORM rt.check_seq(rt.frame_int(frame, 'before', false), 'before', 1);
        END IF;
        v_limit := coalesce(rt.frame_int(frame, 'limit', false), 50);
        IF v_limit NOT BETWEEN 1 AND 1000 THEN
            PERFORM rt.raise('BAD_REQUEST', '"limit" must be between 1 and 1000');
        END IF;
        RETURN rt.history_page(v_room, rt.frame_int(frame, 'before', false), v_limit::integer, user_id);
    WHEN 'roster' THEN
        v_limit := coalesce(rt.frame_int(frame, 'limit', false), 100);
        IF v_limit NOT BETWEEN 1 AND 1000 THEN
            PERFORM rt.raise('BAD_REQUEST', '"limit" must be between 1 and 1000');
        END IF;
        RETURN rt.roster(v_room, user_id, rt.frame_string(frame, 'after', false), v_limit::integer);
    END CASE;
END
$$;

COMMENT ON FUNCTION rt.dispatch(text, text, text, jsonb) IS
    'Bridge entry point: execute one client frame (join, leave, send, publish, signal, state, edit, delete, read, history, roster, search); returns the reply data.';
