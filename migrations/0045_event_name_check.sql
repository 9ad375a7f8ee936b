-- The CHECK rules of rt.events as one CHECK, with the event name's pattern written so that it is
-- cheap to match (docs/benchmarks.md "The write path").
--
-- Why: every row inserted into rt.events is checked, and the pattern '^[a-z][a-z0-9_]{0,63}$' cost
-- ~20,000 instructions per row (callgrind): PostgreSQL's regex engine builds the states of a bounded
-- repetition afresh in every match. The same rule as a length and an unbounded pattern
-- (char_length 1..64 and '^[a-z][a-z0-9_]*$': the class is ASCII, so characters are bytes) costs a
-- tenth of that, on both write paths. The three rules of migrations/0004_rooms.sql become one CHECK
-- in the same step; a bad row written by hand is still refused with check_violation (a CHECK passes
-- unless its expression is false, and an AND of the rules is false exactly when one rule is false).
-- Tried and left out: ANDing rt.messages' four CHECKs into one too. PostgreSQL 15 parses CHECK
-- expressions from text in every INSERT, but the cost is by the node, not by the expression: it
-- saved ~1,000 of the ~190,000 instructions all seven CHECKs cost a post_message.
ALTER TABLE rt.events
    DROP CONSTRAINT events_seq_check, DROP CONSTRAINT events_event_check, DROP CONSTRAINT events_data_check,
    ADD CONSTRAINT events_row_valid CHECK (
        seq > 0
        AND char_length(event) BETWEEN 1 AND 64 AND event ~ '^[a-z][a-z0-9_]*$'
        AND jsonb_typeof(data) = 'object');
