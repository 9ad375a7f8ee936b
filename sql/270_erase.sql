-- Erasure of a user (docs/sql-api.md "Erasure of a user"): their message bodies, media URLs, edits,
-- published event data, read receipts, presence and preferences go everywhere, in one transaction.
-- The events themselves stay as tombstones (same seq, event, actor, at; content redacted with
-- "erased": true), so every room's seq sequence stays gap-free and replay stays exact; each room
-- where something was redacted gets a `user_erased` event so open clients redact live.

-- rt.erase_user: erase user_id (rt_compliance; erased_by names who asked, for the audit trail).
-- Returns {user, rooms, messages, events, receipts, presence}: rooms notified, messages redacted,
-- events redacted (messages, edits, published events), read markers reset, presence rows removed.
CREATE OR REPLACE FUNCTION rt.erase_user(user_id text, erased_by text) RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_rooms    text[];
    v_room     text;
    v_m_rooms  text[];    -- their message events
    v_m_seqs   bigint[];
    v_x_rooms  text[];    -- their other content: own edits and published events
    v_x_seqs   bigint[];
    v_t_rooms  text[];    -- messages their edits changed (to restore when not theirs)
    v_t_seqs   bigint[];
    v_messages bigint;
    v_events   bigint;
    v_receipts bigint;
    v_presence bigint := 0;
    v_rows     bigint;
    v_result   jsonb;
BEGIN
    PERFORM rt.check_ident(user_id, 'user_id');
    PERFORM rt.check_ident(erased_by, 'erased_by');

    -- Everything they wrote, in one pass over the log (there is no index on actor: the write path
    -- should not pay for a rare operation); every change below then goes by primary key.
    SELECT array_agg(e.room) FILTER (WHERE e.event = 'message'),
           array_agg(e.seq) FILTER (WHERE e.event = 'message'),
           array_agg(e.room) FILTER (WHERE e.event <> 'message'),
           array_agg(e.seq) FILTER (WHERE e.event <> 'message'),
           array_agg(e.room) FILTER (WHERE e.event = 'message_edited'),
           array_agg((e.data ->> 'seq')::bigint) FILTER (WHERE e.event = 'message_edited')
      INTO v_m_rooms, v_m_seqs, v_x_rooms, v_x_seqs, v_t_rooms, v_t_seqs
      FROM rt.events e
      JOIN rt.event_types t ON t.event = e.event
     WHERE e.actor = erase_user.user_id AND (NOT t.system OR e.event IN ('message', 'message_edited'))
       AND NOT (e.data ? 'erased');
    SELECT coalesce(array_agg(DISTINCT r COLLATE "C" ORDER BY r COLLATE "C"), '{}') INTO v_rooms
      FROM unnest(coalesce(v_m_rooms, '{}') || coalesce(v_x_rooms, '{}')) r;
    -- Room locks in the order rt.batch takes them: no deadlock with writers, and no edit of these
    -- messages can interleave with their redaction.
    PERFORM 1 FROM rt.rooms r WHERE r.id = ANY (v_rooms) ORDER BY r.id COLLATE "C" FOR NO KEY UPDATE;

    -- Their messages: the current form (out of the search index too), then the log.
    UPDATE rt.messages m
       SET body = NULL, media_url = NULL, meta = '{}', deleted_at = coalesce(m.deleted_at, clock_timestamp()),
           search_tsv = NULL
      FROM unnest(v_m_rooms, v_m_seqs) AS x (room, seq)
     WHERE m.room = x.room AND m.seq = x.seq AND m.body IS NOT NULL;
    GET DIAGNOSTICS v_messages = ROW_COUNT;

    UPDATE rt.events e
       SET data = e.data || '{"body": null, "media_url": null, "meta": {}, "erased": true}'
      FROM unnest(v_m_rooms, v_m_seqs) AS x (room, seq)
     WHERE e.room = x.room AND e.seq = x.seq;
    GET DIAGNOSTICS v_events = ROW_COUNT;
    -- Every edit of their messages (by anyone): events_edits_idx finds them.
    UPDATE rt.events e
       SET data = e.data || '{"body": null, "erased": true}'
      FROM unnest(v_m_rooms, v_m_seqs) AS x (room, seq)
     WHERE e.room = x.room AND e.event = 'message_edited' AND (e.data ->> 'seq')::bigint = x.seq
       AND NOT (e.data ? 'erased');
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    v_events := v_events + v_rows;
    -- Their own edits (their words, also on others' messages) and the events they published.
    UPDATE rt.events e
       SET data = CASE WHEN e.event = 'message_edited' THEN e.data || '{"body": null, "erased": true}'
                       ELSE '{"erased": true}' END
      FROM unnest(v_x_rooms, v_x_seqs) AS x (room, seq)
     WHERE e.room = x.room AND e.seq = x.seq AND NOT (e.data ? 'erased');
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    v_events := v_events + v_rows;

    -- A message of someone else that they had edited shows its text from before their edits again:
    -- the newest edit left, else the original (and is indexed by it).
    UPDATE rt.messages m
       SET body = x.body, search_tsv = rt.search_document(m.search_config, m.room, x.body)
      FROM (SELECT t.room, t.seq,
                   coalesce(
                       (SELECT ed.data ->> 'body' FROM rt.events ed
                         WHERE ed.room = t.room AND ed.event = 'message_edited' AND (ed.data ->> 'seq')::bigint = t.seq
                           AND NOT (ed.data ? 'erased')
                         ORDER BY ed.seq DESC LIMIT 1),
                       (SELECT o.data ->> 'body' FROM rt.events o WHERE o.room = t.room AND o.seq = t.seq)) AS body
              FROM (SELECT DISTINCT d.room, d.seq FROM unnest(v_t_rooms, v_t_seqs) AS d (room, seq)) t) x
     WHERE m.room = x.room AND m.seq = x.seq AND m.author <> erase_user.user_id AND m.body IS NOT NULL;

    DELETE FROM rt.transcript_search t
     USING unnest(v_x_rooms, v_x_seqs) AS x (room, seq)
     WHERE t.room = x.room AND t.seq = x.seq;

    -- Read receipts and preferences.
    UPDATE rt.members m SET last_read_seq = 0 WHERE m.user_id = erase_user.user_id AND m.last_read_seq <> 0;
    GET DIAGNOSTICS v_receipts = ROW_COUNT;
    DELETE FROM rt.prefs p WHERE p.user_id = erase_user.user_id;

    -- Presence: gone, announced in each room as any leave is (`presence` left, or `occupancy`).
    FOR v_room IN
        SELECT DISTINCT p.room COLLATE "C" FROM rt.presence p WHERE p.user_id = erase_user.user_id ORDER BY 1
    LOOP
        PERFORM 1 FROM rt.rooms x WHERE x.id = v_room FOR NO KEY UPDATE;
        DELETE FROM rt.presence p WHERE p.room = v_room AND p.user_id = erase_user.user_id;
        GET DIAGNOSTICS v_rows = ROW_COUNT;
        v_presence := v_presence + v_rows;
        -- rt.announce_presence keeps the room's online counter and speaks its presence mode
        -- (docs/sql-api.md "Presence and occupancy").
        PERFORM rt.announce_presence(v_room, ARRAY[erase_user.user_id], 'left', rt.add_online(v_room, -1));
    END LOOP;

    -- Tell every room where something was redacted (ended rooms too: they stay readable).
    FOREACH v_room IN ARRAY v_rooms LOOP
        PERFORM rt.append_event(v_room, 'user_erased', NULL,
                                jsonb_build_object('user', erase_user.user_id,
                                                   'upto', (SELECT r.last_seq FROM rt.rooms r WHERE r.id = v_room)));
    END LOOP;

    v_result := jsonb_build_object('user', user_id, 'rooms', cardinality(v_rooms), 'messages', v_messages,
                                   'events', v_events, 'receipts', v_receipts, 'presence', v_presence);
    PERFORM rt.audit_write('user_erased', NULL, erased_by, v_result);
    RETURN v_result;
END
$$;

COMMENT ON FUNCTION rt.erase_user(text, text) IS
    'Erase a user''s content everywhere (rt_compliance): tombstones keep seq gap-free; user_erased tells each room. Returns counts.';
