-- One send, the direct path (docs/sql-api.md "The write path"). Most sends arrive alone: every
-- rt.post_message from psql or a service, and every batch a quiet bridge sends. The set-based path
-- (sql/215_send.sql) pays for its set machinery (jsonb_to_recordset, arrays, RETURN QUERY) even for a
-- set of one; this path does the same work for one send with scalar statements, in the same order,
-- with the same rule functions, so both give the same answer (tests/pgtap/170_write_path.sql runs the
-- bad-input table and mixed batches through both).

-- The argument rules of a send, in the order the single calls check them (the first problem wins):
-- with frame (a client frame through a bridge, as rt.dispatch reads it) the connection and user ids
-- first, then room, author, body, media_url, meta, client_msg_id. Every rule is a *_problem function
-- of sql/030_validate.sql; this function only fixes their order, for both paths. An absent media_url
-- or client_msg_id (allowed by their rules) is not handed to its rule: most sends have neither, and
-- each call of a function that pins search_path costs a send ~10,000 instructions. For the same
-- reason the empty meta '{}' (the default, always within max_meta_bytes, whose least value is 64) is
-- not handed to its rule, and with frame the author is not checked again: it is the user id, which
-- the same rule has just passed.
CREATE OR REPLACE FUNCTION rt.send_problem(frame boolean, conn text, "user" text, room text, body text,
                                           media_url text, meta jsonb, client_msg_id text,
                                           max_event_bytes integer, max_meta_bytes integer)
    RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN coalesce(
        CASE WHEN frame THEN coalesce(rt.ident_problem(conn, 'conn_id'), rt.ident_problem("user", 'user_id')) END,
        rt.room_id_problem(room),
        CASE WHEN frame IS NOT TRUE THEN rt.ident_problem("user", 'author') END,
        rt.body_problem(body, max_event_bytes),
        CASE WHEN media_url IS NOT NULL THEN rt.media_url_problem(media_url) END,
        CASE WHEN meta IS DISTINCT FROM '{}'::jsonb THEN rt.object_problem(meta, 'meta', max_meta_bytes) END,
        CASE WHEN client_msg_id IS NOT NULL THEN rt.ident_problem(client_msg_id, 'client_msg_id', false) END);
END
$$;

COMMENT ON FUNCTION rt.send_problem(boolean, text, text, text, text, text, jsonb, text, integer, integer) IS
    'Internal: the first argument problem of a send (as a value), in the order the single calls check.';

-- rt.apply_send: post one message. The outcome is rt.apply_sends' for a set of this one command:
-- ok and the event (wire shape), or not ok and the problem {code, message, detail?, hint?}. A send
-- that fails is decided before anything is written, so it writes and notifies nothing.
--   1. the argument rules (rt.send_problem);
--   2. the room's row lock (FOR NO KEY UPDATE, as every writer of the room takes it), then, in a
--      snapshot newer than the lock, the author's role and right and, with a client_msg_id, the
--      message already stored under (room, author, client_msg_id): a retry gets it back, even in an
--      ended room;
--   3. an ended room is CONFLICT; the event's wire JSON, with its real seq, must fit max_event_bytes;
--   4. write last_seq, the event and the message row, and notify the event through rt.emit.
CREATE OR REPLACE FUNCTION rt.apply_send(frame boolean, conn text, "user" text, room text, body text,
                                         media_url text, meta jsonb, client_msg_id text,
                                         OUT ok boolean, OUT reply jsonb)
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_max_event integer;
    v_max_meta  integer;
    v_seq       bigint;
    v_ended_at  timestamptz;
    v_role      text;
    v_may_send  boolean;
    v_at        timestamptz;
    v_data      jsonb;
    v_problem   jsonb;
    v_sent      text;
    v_config    regconfig;
BEGIN
    ok := false;
    -- Both limits in one statement (rt.setting_int would take one each).
    SELECT (max(s.value) FILTER (WHERE s.key = 'max_event_bytes'))::integer,
           (max(s.value) FILTER (WHERE s.key = 'max_meta_bytes'))::integer
      INTO v_max_event, v_max_meta
      FROM rt.settings s WHERE s.key IN ('max_event_bytes', 'max_meta_bytes');
    reply := rt.send_problem(frame, conn, "user", room, body, media_url, meta, client_msg_id, v_max_event, v_max_meta);
    IF reply IS NOT NULL THEN
        RETURN;
    END IF;

    SELECT r.last_seq + 1, r.ended_at INTO v_seq, v_ended_at
      FROM rt.rooms r WHERE r.id = apply_send.room FOR NO KEY UPDATE;
    IF FOUND THEN
        SELECT m.role, EXISTS (SELECT 1 FROM rt.role_rights rr WHERE rr.role = m.role AND rr.right_name = 'send'),
               (SELECT rt.event_json(ev) FROM rt.messages sm JOIN rt.events ev ON ev.room = sm.room AND ev.seq = sm.seq
                 WHERE apply_send.client_msg_id IS NOT NULL AND sm.room = apply_send.room
                   AND sm.author = apply_send."user" AND sm.client_msg_id = apply_send.client_msg_id)
          INTO v_role, v_may_send, reply
          FROM rt.members m WHERE m.room = apply_send.room AND m.user_id = apply_send."user";
    END IF;
    IF v_role IS NULL OR NOT v_may_send THEN
        reply := rt.access_problem("user", room, v_role, v_may_send, 'send');
        RETURN;
    END IF;
    IF reply IS NOT NULL THEN  -- idempotent retry: the stored event
        ok := true;
        RETURN;
    END IF;
    IF v_ended_at IS NOT NULL THEN  -- only an ended room has a problem here (no call otherwise)
        reply := rt.open_problem(room, v_ended_at);
        RETURN;
    END IF;

    -- Taken after the lock, so `at` follows seq order within a room.
    v_at := clock_timestamp();
    v_data := jsonb_build_object('body', body, 'media_url', media_url, 'meta', meta, 'client_msg_id', client_msg_id);
    reply := rt.event_json(room, v_seq, 'message', "user", v_at, v_data);
    v_problem := rt.event_size_problem(reply, v_max_event);
    IF v_problem IS NOT NULL THEN
        reply := v_problem;
        RETURN;
    END IF;

    UPDATE rt.rooms r SET last_seq = v_seq WHERE r.id = apply_send.room;
    INSERT INTO rt.events (room, seq, event, actor, data, at)
    VALUES (room, v_seq, 'message', "user", v_data, v_at);
    -- The search document, as rt.search_document(v_config, room, body) makes it, written out: a call
    -- here would run that SQL function's planner in every post (migrations/0047_search_tsv_written.sql).
    v_config := rt.search_config(room);
    INSERT INTO rt.messages (room, seq, author, body, media_url, meta, client_msg_id, created_at, search_config, search_tsv)
    VALUES (room, v_seq, "user", body, media_url, meta, client_msg_id, v_at, v_config,
            to_tsvector(v_config, CASE WHEN char_length(body) < 2048 THEN body ELSE rt.indexable_text(body) END)
            || array_to_tsvector(ARRAY['@' || room]));
    v_sent := rt.emit(reply);  -- an assignment, not PERFORM: a simple expression skips the executor
    ok := true;
END
$$;

COMMENT ON FUNCTION rt.apply_send(boolean, text, text, text, text, text, jsonb, text) IS
    'Internal: post one message (the direct path of the write path); (ok, the event) or (not ok, the problem).';
