-- rt.events no longer references rt.rooms by a foreign key (docs/sql-api.md "The write path").
--
-- The RI check ran one query per event and took a KEY SHARE lock on the room's row version the same
-- transaction had just updated (last_seq): a heap lock, a WAL record and an after-trigger event per
-- send, for a room every writer has already locked FOR NO KEY UPDATE before it appends (rt.room_for,
-- rt.apply_send, rt.apply_sends), so the room cannot be missing or be deleted under it. What the key
-- did besides is done by the statement-level trigger that already deletes the messages of deleted
-- rooms (migration 0012): it now deletes their events too. Inserting an event by hand for a room that
-- does not exist is no longer refused; only the owner can write rt.events at all.
ALTER TABLE rt.events DROP CONSTRAINT events_room_fkey;

CREATE FUNCTION rt.delete_log_of_deleted_rooms() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM rt.messages m USING gone g WHERE m.room = g.id;
    DELETE FROM rt.events e USING gone g WHERE e.room = g.id;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION rt.delete_log_of_deleted_rooms() IS
    'Internal trigger: deleting rooms deletes their events and messages (neither has a foreign key; see migrations 0012, 0013).';

DROP TRIGGER rooms_delete_messages ON rt.rooms;
DROP FUNCTION rt.delete_messages_of_deleted_rooms();

CREATE TRIGGER rooms_delete_log AFTER DELETE ON rt.rooms
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
    EXECUTE FUNCTION rt.delete_log_of_deleted_rooms();

REVOKE ALL ON FUNCTION rt.delete_log_of_deleted_rooms() FROM PUBLIC;
