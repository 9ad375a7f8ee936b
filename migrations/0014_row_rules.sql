-- The CHECK rules of rt.rooms, rt.events and rt.messages, one function per table
-- (docs/sql-api.md "The write path", docs/benchmarks.md "The write path").
--
-- Why: PostgreSQL 15 rebuilds a table's CHECK expressions from their stored text (stringToNode, then
-- planning) in every statement that writes the table. The write path writes one row per statement
-- on the direct path (a send: UPDATE rt.rooms, INSERT rt.events, INSERT rt.messages), and those 13
-- CHECK expressions were a fifth of the instructions of a post_message (callgrind). One CHECK per
-- table that calls a PL/pgSQL function (whose expressions are planned once per session) enforces
-- the same rules for every row, hand-written ones included, at a fraction of that. Each function
-- keeps the rules as the columns' CHECKs had them, NULL-tolerant as a CHECK is: a rule that yields
-- NULL passes.
CREATE FUNCTION rt.room_row_valid(id text, title text, owner text, version integer, last_seq bigint, meta jsonb)
    RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (id ~ '^[A-Za-z0-9_-]{1,64}$') IS NOT FALSE
       AND (char_length(title) BETWEEN 1 AND 200 AND title !~ '[[:cntrl:]]') IS NOT FALSE
       AND (char_length(owner) BETWEEN 1 AND 128 AND owner !~ '[[:cntrl:]]') IS NOT FALSE
       AND (version >= 0) IS NOT FALSE
       AND (last_seq >= 0) IS NOT FALSE
       AND (jsonb_typeof(meta) = 'object') IS NOT FALSE;
END
$$;

COMMENT ON FUNCTION rt.room_row_valid(text, text, text, integer, bigint, jsonb) IS
    'Internal: the CHECK rule of an rt.rooms row (room id, title, owner, version, last_seq, meta).';

CREATE FUNCTION rt.event_row_valid(seq bigint, event text, data jsonb) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (seq > 0) IS NOT FALSE
       AND (event ~ '^[a-z][a-z0-9_]{0,63}$') IS NOT FALSE
       AND (jsonb_typeof(data) = 'object') IS NOT FALSE;
END
$$;

COMMENT ON FUNCTION rt.event_row_valid(bigint, text, jsonb) IS
    'Internal: the CHECK rule of an rt.events row (seq, event name, data object).';

CREATE FUNCTION rt.message_row_valid(body text, media_url text, meta jsonb, client_msg_id text, deleted_at timestamptz)
    RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (jsonb_typeof(meta) = 'object') IS NOT FALSE
       AND (char_length(client_msg_id) BETWEEN 1 AND 128) IS NOT FALSE
       -- a deleted message keeps no content
       AND ((deleted_at IS NULL) = (body IS NOT NULL)) IS NOT FALSE
       AND (deleted_at IS NULL OR (media_url IS NULL AND meta = '{}')) IS NOT FALSE;
END
$$;

COMMENT ON FUNCTION rt.message_row_valid(text, text, jsonb, text, timestamptz) IS
    'Internal: the CHECK rule of an rt.messages row (meta object, client_msg_id length, deleted rows empty).';

REVOKE ALL ON FUNCTION rt.room_row_valid(text, text, text, integer, bigint, jsonb),
                       rt.event_row_valid(bigint, text, jsonb),
                       rt.message_row_valid(text, text, jsonb, text, timestamptz) FROM PUBLIC;

ALTER TABLE rt.rooms
    DROP CONSTRAINT rooms_id_check, DROP CONSTRAINT rooms_title_check, DROP CONSTRAINT rooms_owner_check,
    DROP CONSTRAINT rooms_version_check, DROP CONSTRAINT rooms_last_seq_check, DROP CONSTRAINT rooms_meta_check,
    ADD CONSTRAINT rooms_row_valid CHECK (rt.room_row_valid(id, title, owner, version, last_seq, meta));
ALTER TABLE rt.events
    DROP CONSTRAINT events_seq_check, DROP CONSTRAINT events_event_check, DROP CONSTRAINT events_data_check,
    ADD CONSTRAINT events_row_valid CHECK (rt.event_row_valid(seq, event, data));
ALTER TABLE rt.messages
    DROP CONSTRAINT messages_meta_check, DROP CONSTRAINT messages_client_msg_id_check,
    DROP CONSTRAINT messages_check, DROP CONSTRAINT messages_check1,
    ADD CONSTRAINT messages_row_valid CHECK (rt.message_row_valid(body, media_url, meta, client_msg_id, deleted_at));
