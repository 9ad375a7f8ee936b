-- Retention: old events leave the log; seq numbers are never reused (rooms.last_seq never goes
-- down), and a join whose `since` predates what remains reports recovered = false.

-- rt.prune_events: remove events older than the `retention` setting and return how many went.
-- Each room loses a prefix of its log: everything up to its newest event older than the cutoff, so
-- the remaining log never has holes (`at` follows seq within a room, but not strictly across clock
-- adjustments). Messages of removed events go with them. Takes no room locks: appends never touch
-- rows this removes.
CREATE OR REPLACE FUNCTION rt.prune_events() RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_cutoff timestamptz := now() - rt.setting('retention')::interval;
    v_count  bigint;
BEGIN
    WITH cut AS (
        SELECT e.room, max(e.seq) AS upto FROM rt.events e WHERE e.at < v_cutoff GROUP BY e.room),
    gone AS (
        DELETE FROM rt.events e USING cut WHERE e.room = cut.room AND e.seq <= cut.upto RETURNING 1),
    -- rt.messages has no foreign key to rt.events (migration 0012): its rows go explicitly, here.
    gone_messages AS (
        DELETE FROM rt.messages m USING cut WHERE m.room = cut.room AND m.seq <= cut.upto)
    SELECT count(*) INTO v_count FROM gone;
    RETURN v_count;
END
$$;

COMMENT ON FUNCTION rt.prune_events() IS 'Remove events older than the retention setting (a prefix of each room''s log); returns the count.';
