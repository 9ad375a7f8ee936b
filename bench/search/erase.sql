-- Erasure cost (not a test): a user with :per_room messages in each of :rooms existing rooms (plus
-- one edit of each of their messages by the room's owner, a read marker and presence in every room)
-- is erased with one rt.erase_user call; prints the call's duration and what it did. Run it on the
-- search benchmark's data (bench/search/generate.sql: 1,000,000 other messages) several times; each
-- run erases a fresh user.
--   psql -v rooms=100 -v per_room=100 -v user=eraseme1 -f bench/search/erase.sql
\set ON_ERROR_STOP on
SET synchronous_commit = off;
SELECT set_config('bench.rooms', :'rooms', false), set_config('bench.per_room', :'per_room', false),
       set_config('bench.user', :'user', false) \g /dev/null
DO $gen$
DECLARE
    v_user  text := current_setting('bench.user');
    v_per   integer := current_setting('bench.per_room')::integer;
    v_room  text;
    v_seq   bigint;
BEGIN
    FOR v_room IN SELECT r.id FROM rt.rooms r WHERE r.id LIKE 'sb\_%' ORDER BY random() LIMIT current_setting('bench.rooms')::integer LOOP
        INSERT INTO rt.members (room, user_id, role, last_read_seq) VALUES (v_room, v_user, 'member', 1);
        PERFORM rt.dispatch('bench', v_user || '-c', v_user, jsonb_build_object('type', 'join', 'room', v_room));
        SELECT r.last_seq INTO v_seq FROM rt.rooms r WHERE r.id = v_room FOR UPDATE;
        -- messages, then an edit of each by someone else (the owner), as the write path stores them
        INSERT INTO rt.events (room, seq, event, actor, data, at)
        SELECT v_room, v_seq + s, 'message', v_user,
               jsonb_build_object('body', 'personal words ' || s || ' of ' || v_user, 'media_url', 'https://x.example/' || s,
                                  'meta', '{}'::jsonb, 'client_msg_id', NULL), clock_timestamp()
          FROM generate_series(1, v_per) s;
        INSERT INTO rt.messages (room, seq, author, body, media_url, created_at, search_config, search_tsv)
        SELECT v_room, v_seq + s, v_user, 'personal words ' || s || ' of ' || v_user, 'https://x.example/' || s,
               clock_timestamp(), 'pg_catalog.simple'::regconfig,
               rt.search_document('pg_catalog.simple'::regconfig, v_room, 'personal words ' || s || ' of ' || v_user)
          FROM generate_series(1, v_per) s;
        INSERT INTO rt.events (room, seq, event, actor, data, at)
        SELECT v_room, v_seq + v_per + s, 'message_edited', (SELECT owner FROM rt.rooms WHERE id = v_room),
               jsonb_build_object('seq', v_seq + s, 'body', 'edited words ' || s), clock_timestamp()
          FROM generate_series(1, v_per) s;
        UPDATE rt.rooms SET last_seq = v_seq + 2 * v_per WHERE id = v_room;
    END LOOP;
END
$gen$;
VACUUM ANALYZE rt.events;
VACUUM ANALYZE rt.messages;
\timing on
SELECT rt.erase_user(:'user', 'bench') AS result;
\timing off
SELECT count(*) AS remaining_text FROM rt.messages WHERE author = :'user' AND body IS NOT NULL;
