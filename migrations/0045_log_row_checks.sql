-- The CHECK rules of rt.events and rt.messages as one CHECK per table (docs/sql-api.md "The write
-- path").
--
-- Why: PostgreSQL 15 rebuilds every CHECK expression of a table from its stored text (stringToNode,
-- then planning and compiling) in every statement that writes the table. A post inserts one row into
-- each table, so it paid for seven expressions: ~30,000 instructions each, 11% of a post_message
-- (callgrind, docs/benchmarks.md "The write path"). Most of that cost is per expression, not per
-- rule, so the same rules ANDed into one expression per table cost a fraction of it. Every rule is
-- kept word for word and still refuses a bad row written by hand (check_violation): a CHECK passes
-- unless its expression is false, and an AND of the rules is false exactly when one rule is false.
-- (Not a function call per row, as rt.rooms has since migration 0014: a set of sends inserts many
-- rows per statement, and a call per row would cost the set path more than the parsing it saves.)
ALTER TABLE rt.events
    DROP CONSTRAINT events_seq_check, DROP CONSTRAINT events_event_check, DROP CONSTRAINT events_data_check,
    ADD CONSTRAINT events_row_valid CHECK (
        seq > 0
        AND event ~ '^[a-z][a-z0-9_]{0,63}$'
        AND jsonb_typeof(data) = 'object');

ALTER TABLE rt.messages
    DROP CONSTRAINT messages_meta_check, DROP CONSTRAINT messages_client_msg_id_check,
    DROP CONSTRAINT messages_check, DROP CONSTRAINT messages_check1,
    ADD CONSTRAINT messages_row_valid CHECK (
        jsonb_typeof(meta) = 'object'
        AND char_length(client_msg_id) BETWEEN 1 AND 128
        AND (deleted_at IS NULL) = (body IS NOT NULL)
        AND (deleted_at IS NULL OR (media_url IS NULL AND meta = '{}')));
