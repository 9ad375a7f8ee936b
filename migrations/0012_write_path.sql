-- The set-based write path (docs/sql-api.md "The write path").
--
-- 1. Idempotency of post_message is keyed by (room, author, client_msg_id), not (room, client_msg_id):
--    one member can no longer pre-empt (or read back) another member's message by guessing its id.
--    Partial: posts without a client_msg_id, most of them, add no entry to this index.
ALTER TABLE rt.messages DROP CONSTRAINT messages_room_client_msg_id_key;
CREATE UNIQUE INDEX messages_client_msg_id_idx ON rt.messages (room, author, client_msg_id)
    WHERE client_msg_id IS NOT NULL;

-- 2. rt.messages no longer references rt.events by a foreign key. The RI check ran one query per
--    message and took a KEY SHARE lock on the event row just inserted (a WAL record per send) although
--    both rows are written by the same statement of the same function. What the key did besides is
--    done explicitly: rt.prune_events deletes the messages of the events it removes, and deleting a
--    room deletes its messages through the statement-level trigger below (events, members and
--    presence still go by their ON DELETE CASCADE keys).
ALTER TABLE rt.messages DROP CONSTRAINT messages_room_seq_fkey;

CREATE FUNCTION rt.delete_messages_of_deleted_rooms() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM rt.messages m USING gone g WHERE m.room = g.id;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION rt.delete_messages_of_deleted_rooms() IS
    'Internal trigger: deleting rooms deletes their messages (rt.messages has no foreign key; see migration 0012).';

CREATE TRIGGER rooms_delete_messages AFTER DELETE ON rt.rooms
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
    EXECUTE FUNCTION rt.delete_messages_of_deleted_rooms();

REVOKE ALL ON FUNCTION rt.delete_messages_of_deleted_rooms() FROM PUBLIC;
