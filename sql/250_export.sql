-- Export of a room's log as JSON lines. docs/sql-api.md "Export".

-- rt.export_room: every stored event with seq > after_seq, ascending, one line of wire JSON each
-- (exactly what history and replay serve: deleted and erased messages appear as their redacted
-- tombstones). actor, when given, must have the read right, as for rt.history; NULL is a trusted
-- call. The text never contains a raw newline (JSON escapes it), so each row is one JSON line:
--   psql -XAt -c "SELECT * FROM rt.export_room('tour', 0, 'alice')" > tour.jsonl
CREATE OR REPLACE FUNCTION rt.export_room(room text, after_seq bigint DEFAULT 0, actor text DEFAULT NULL)
    RETURNS SETOF text
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM rt.check_room_id(room);
    PERFORM rt.check_seq(after_seq, 'after_seq');
    PERFORM rt.check_ident(actor, 'actor', required => false);
    PERFORM rt.room_for(room, actor, 'read', false);
    RETURN QUERY
        SELECT rt.event_json(e)::text
          FROM rt.events e
         WHERE e.room = export_room.room AND e.seq > after_seq
         ORDER BY e.seq;
END
$$;

COMMENT ON FUNCTION rt.export_room(text, bigint, text) IS
    'Every event after after_seq as JSON lines (wire shape), ascending; actor (optional) needs the read right.';
