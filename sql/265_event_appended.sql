-- What an appended event does besides its row: an audited change gets its audit row (docs/sql-api.md
-- "Audit trail"), a final transcript segment becomes searchable (docs/sql-api.md "Search"), in the
-- appending transaction. A trigger on rt.events, so no writer needs an extra statement and none can
-- forget one.
--
-- One trigger, not one per concern: PostgreSQL 15 parses a row trigger's WHEN clause from its stored
-- text in every statement that inserts into the table, whether the trigger fires or not, and every
-- message is an INSERT into rt.events for which neither fires. Two triggers cost a post_message
-- ~78,000 instructions, 57,000 of them parsing their WHEN clauses (callgrind, docs/benchmarks.md
-- "The write path"). The WHEN clause is the shortest that leaves messages out (`<> 'message'`, 41,000
-- less per post; a list of the seven events that need the trigger saved only 14,000): the function
-- decides, and other events (edits, application events) pay a call that does nothing.

CREATE OR REPLACE FUNCTION rt.event_appended() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_config regconfig;
BEGIN
    IF NEW.event = 'transcript' THEN
        -- The search index row of a final transcript segment (its text in data.text).
        v_config := rt.search_config(NEW.room);
        IF v_config IS NOT NULL AND jsonb_typeof(NEW.data -> 'text') = 'string' THEN
            INSERT INTO rt.transcript_search (room, seq, at, search_config, search_tsv)
            VALUES (NEW.room, NEW.seq, NEW.at, v_config, rt.search_document(v_config, NEW.room, NEW.data ->> 'text'));
        END IF;
    ELSIF NEW.event = ANY ('{room_created,room_updated,room_ended,member_added,member_removed,state}') THEN
        -- An audited change (membership, roles, state, title/meta, the room's life): its audit row,
        -- with the event's own time, actor, seq and data.
        INSERT INTO rt.audit (at, action, room, actor, seq, detail)
        VALUES (NEW.at, NEW.event, NEW.room, NEW.actor, NEW.seq, NEW.data);
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION rt.event_appended() IS
    'Internal trigger: the audit row of an audited event, the search index row of a transcript.';

CREATE OR REPLACE TRIGGER events_appended
    AFTER INSERT ON rt.events
    FOR EACH ROW
    WHEN (NEW.event <> 'message')
    EXECUTE FUNCTION rt.event_appended();
