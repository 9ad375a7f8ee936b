-- Messages: post (idempotent by client_msg_id per author), edit, delete.

-- rt.post_message: append a `message` event. With a client_msg_id the same author already used in the
-- room, the stored event is returned and nothing new is written (safe retries; the key is (room,
-- author, client_msg_id), so one member cannot pre-empt another's id). The direct path of the write
-- path, rt.apply_send (sql/212_send_one.sql), holds every rule of posting; rt.batch uses it too.
CREATE OR REPLACE FUNCTION rt.post_message(room text, author text, body text, media_url text DEFAULT NULL,
                                           meta jsonb DEFAULT '{}', client_msg_id text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    o record;
BEGIN
    o := rt.apply_send(false, NULL, author, room, body, media_url, meta, client_msg_id);
    IF NOT o.ok THEN
        PERFORM rt.raise_problem(o.reply);
    END IF;
    RETURN o.reply;
END
$$;

COMMENT ON FUNCTION rt.post_message(text, text, text, text, jsonb, text) IS
    'Post a message (appends message); idempotent by (room, author, client_msg_id). Returns the event.';

-- The message at seq, locked, for an edit or delete by actor. Only the author (while still holding
-- the send right) or a member with the moderate right may change it. A missing, deleted or pruned
-- message is NOT_FOUND.
CREATE OR REPLACE FUNCTION rt.message_for_change(r rt.rooms, actor text, seq bigint) RETURNS rt.messages
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    m      rt.messages;
    v_role text := rt.member_role(r.id, actor);
BEGIN
    SELECT * INTO m FROM rt.messages x WHERE x.room = r.id AND x.seq = message_for_change.seq FOR UPDATE;
    IF NOT FOUND OR m.deleted_at IS NOT NULL THEN
        PERFORM rt.raise('NOT_FOUND', format('room %s has no message %s', r.id, seq),
                         detail => 'it never existed, was deleted, or was removed by retention');
    END IF;
    IF NOT (rt.has_right(v_role, 'moderate') OR (m.author = actor AND rt.has_right(v_role, 'send'))) THEN
        PERFORM rt.raise('FORBIDDEN', format('only the author or a moderator may change message %s', seq));
    END IF;
    RETURN m;
END
$$;

COMMENT ON FUNCTION rt.message_for_change(rt.rooms, text, bigint) IS
    'Internal: a message the actor may edit or delete (NOT_FOUND / FORBIDDEN otherwise), locked.';

-- rt.edit_message: append message_edited {seq, body}; the messages table shows the new body, the
-- original event stays in the log.
CREATE OR REPLACE FUNCTION rt.edit_message(room text, actor text, seq bigint, body text) RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r       rt.rooms;
    m       rt.messages;
    v_event jsonb;
BEGIN
    PERFORM rt.check_room_id(room);
    PERFORM rt.check_ident(actor, 'actor');
    PERFORM rt.check_seq(seq, 'seq', 1);
    PERFORM rt.check_body(body);
    -- Any member with the read right gets past here; message_for_change decides who may edit.
    r := rt.room_for(room, actor, 'read', true);
    PERFORM rt.ensure_open(r);
    m := rt.message_for_change(r, actor, seq);
    v_event := rt.append_event(room, 'message_edited', actor, jsonb_build_object('seq', seq, 'body', body));
    -- search_tsv follows the body (migrations/0047_search_tsv_written.sql).
    UPDATE rt.messages x
       SET body = edit_message.body, edited_at = (v_event ->> 'at')::timestamptz,
           search_tsv = rt.search_document(x.search_config, x.room, edit_message.body)
     WHERE x.room = edit_message.room AND x.seq = edit_message.seq;
    RETURN v_event;
END
$$;

COMMENT ON FUNCTION rt.edit_message(text, text, bigint, text) IS
    'Edit a message (author or owner): appends message_edited {seq, body}; returns the event.';

-- rt.delete_message: append message_deleted {seq} and redact the stored content: the message event's
-- body, media_url and meta, and the bodies of its message_edited events, so neither history nor
-- replay serves them again.
CREATE OR REPLACE FUNCTION rt.delete_message(room text, actor text, seq bigint) RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r       rt.rooms;
    m       rt.messages;
    v_event jsonb;
BEGIN
    PERFORM rt.check_room_id(room);
    PERFORM rt.check_ident(actor, 'actor');
    PERFORM rt.check_seq(seq, 'seq', 1);
    r := rt.room_for(room, actor, 'read', true);
    PERFORM rt.ensure_open(r);
    m := rt.message_for_change(r, actor, seq);
    v_event := rt.append_event(room, 'message_deleted', actor, jsonb_build_object('seq', seq));
    UPDATE rt.messages x
       SET body = NULL, media_url = NULL, meta = '{}', deleted_at = (v_event ->> 'at')::timestamptz, search_tsv = NULL
     WHERE x.room = delete_message.room AND x.seq = delete_message.seq;
    UPDATE rt.events e
       SET data = e.data || '{"body": null, "media_url": null, "meta": {}, "deleted": true}'
     WHERE e.room = delete_message.room AND e.seq = delete_message.seq;
    UPDATE rt.events e
       SET data = e.data || '{"body": null, "deleted": true}'
     WHERE e.room = delete_message.room AND e.event = 'message_edited'
       AND (e.data ->> 'seq')::bigint = delete_message.seq;
    RETURN v_event;
END
$$;

COMMENT ON FUNCTION rt.delete_message(text, text, bigint) IS
    'Delete a message (author or owner): appends message_deleted {seq}, redacts stored bodies; returns the event.';
