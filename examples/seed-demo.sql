-- The demo's rooms, made through the rt API only. Safe to run again: a room that exists is left as it
-- is (members are re-added, which changes nothing when they are there already).
--
--   psql -v ON_ERROR_STOP=1 -f examples/seed-demo.sql        (scripts/dev.sh runs it)
--
-- demo-chat       chat          alice (owner), bob
-- demo-assistant  conversation  alice (owner), bob, assistant (service: examples/assistant)
-- demo-meeting    meeting       alice (owner), bob, meeting-bot (service: examples/meeting-sim)
\set QUIET on
\set VERBOSITY terse

CREATE FUNCTION pg_temp.seed_room(p_kind text, p_id text, p_title text, p_members text[][], p_hello text)
    RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    m text[];
BEGIN
    BEGIN
        PERFORM rt.create_room(p_kind, 'alice', p_title, p_id);
        IF p_hello IS NOT NULL THEN
            PERFORM rt.post_message(p_id, 'alice', p_hello, client_msg_id => 'seed-hello');
        END IF;
        RAISE NOTICE 'created room %', p_id;
    EXCEPTION WHEN SQLSTATE 'RT409' THEN
        RAISE NOTICE 'room % exists', p_id;
    END;
    FOREACH m SLICE 1 IN ARRAY p_members LOOP
        BEGIN
            PERFORM rt.add_member(p_id, m[1], m[2]);
        EXCEPTION WHEN SQLSTATE 'RT409' THEN
            -- The room was ended (someone pressed "ended" in the demo); it stays readable.
            RAISE NOTICE 'room % has ended; % not added', p_id, m[1];
        END;
    END LOOP;
END
$$;

DO $$
BEGIN
    PERFORM pg_temp.seed_room('chat', 'demo-chat', 'General',
        ARRAY[['bob', 'member']],
        'Welcome! Open this page as bob in a second window and say hi.');
    PERFORM pg_temp.seed_room('conversation', 'demo-assistant', 'Ask the assistant',
        ARRAY[['bob', 'member'], ['assistant', 'service']],
        'Ask the assistant anything: it answers every message (examples/assistant).');
    PERFORM pg_temp.seed_room('meeting', 'demo-meeting', 'Weekly sync',
        ARRAY[['bob', 'member'], ['meeting-bot', 'service']],
        NULL);
END
$$;
