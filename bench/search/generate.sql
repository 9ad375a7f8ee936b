-- Search benchmark data (not a test): :rooms chat rooms of :per_room messages each, :users users,
-- each room with :members members (owner included). Message bodies are 6-20 words drawn from a
-- 20,000-word vocabulary with a Zipf-like (1/rank) distribution, like natural text.
-- Rows are written in bulk exactly as rt.post_message writes them (an event plus its rt.messages
-- row with search_config and search_tsv), which takes minutes instead of hours; the GIN index is maintained as
-- the rows go in, as in production.
--   psql -v rooms=1000 -v per_room=1000 -v users=500 -v members=10 -f bench/search/generate.sql
\set ON_ERROR_STOP on
SET synchronous_commit = off;

CREATE TABLE IF NOT EXISTS public.bench_words (rank integer PRIMARY KEY, word text NOT NULL);
TRUNCATE public.bench_words;
-- Pronounceable letter-only words (the "simple" parser keeps them whole), distinct.
INSERT INTO public.bench_words
SELECT row_number() OVER (ORDER BY n), w
  FROM (SELECT DISTINCT ON (w) n, w
          FROM (SELECT n, translate(substr(md5('w' || n), 1, 3 + n % 6), '0123456789', 'aeiouybrst') AS w
                  FROM generate_series(1, 30000) n) x
         ORDER BY w, n) y
 ORDER BY n
 LIMIT 20000;

BEGIN;
INSERT INTO rt.rooms (id, kind, title, owner, last_seq)
SELECT 'sb_' || r, 'chat', 'search bench ' || r, 'sbu' || (r % :users), 0
  FROM generate_series(1, :rooms) r;
-- Members: the owner and :members - 1 others, each room's set chosen by a stride.
INSERT INTO rt.members (room, user_id, role)
SELECT DISTINCT ON (room, user_id) room, user_id, role FROM (
    SELECT 'sb_' || r AS room, 'sbu' || (r % :users) AS user_id, 'owner' AS role, 0 AS o
      FROM generate_series(1, :rooms) r
    UNION ALL
    SELECT 'sb_' || r, 'sbu' || ((r * 7 + k * 53) % :users), 'member', 1
      FROM generate_series(1, :rooms) r, generate_series(1, :members - 1) k) m
 ORDER BY room, user_id, o;
COMMIT;

-- Messages, 100 rooms per transaction. Each message's author is one of its room's members (the
-- same stride as above).
SELECT set_config('bench.rooms', :'rooms', false), set_config('bench.per_room', :'per_room', false),
       set_config('bench.users', :'users', false), set_config('bench.members', :'members', false) \g /dev/null
DO $gen$
DECLARE
    lo        integer;
    v_rooms   integer := current_setting('bench.rooms')::integer;
    v_per     integer := current_setting('bench.per_room')::integer;
    v_users   integer := current_setting('bench.users')::integer;
    v_members integer := current_setting('bench.members')::integer;
BEGIN
    FOR lo IN SELECT generate_series(1, v_rooms, 100) LOOP
        WITH msg AS (
            SELECT 'sb_' || r AS room, s + 1 AS seq,
                   'sbu' || ((r * 7 + (1 + s % (v_members - 1)) * 53) % v_users) AS author,
                   (SELECT string_agg(w.word, ' ')
                      FROM (SELECT least(20000, floor(power(20000, random()))::integer) AS rk
                              FROM generate_series(1, 6 + (s * 7 + r) % 15) k) x
                      JOIN public.bench_words w ON w.rank = x.rk) AS body,
                   now() - make_interval(secs => (v_per - s) * 60 + r) AS at
              FROM generate_series(lo, least(lo + 99, v_rooms)) r, generate_series(1, v_per) s),
        ev AS (
            INSERT INTO rt.events (room, seq, event, actor, data, at)
            SELECT room, seq, 'message', author,
                   jsonb_build_object('body', body, 'media_url', NULL, 'meta', '{}'::jsonb, 'client_msg_id', NULL), at
              FROM msg RETURNING room, seq, actor, data, at)
        INSERT INTO rt.messages (room, seq, author, body, created_at, search_config, search_tsv)
        SELECT room, seq, actor, data ->> 'body', at, 'pg_catalog.simple'::regconfig,
               rt.search_document('pg_catalog.simple'::regconfig, room, data ->> 'body') FROM ev;
        UPDATE rt.rooms SET last_seq = v_per + 1
         WHERE id IN (SELECT 'sb_' || r FROM generate_series(lo, least(lo + 99, v_rooms)) r);
        COMMIT;
        RAISE NOTICE 'rooms % .. % done', lo, least(lo + 99, v_rooms);
    END LOOP;
END
$gen$;
-- seq 1 is the room_created event.
INSERT INTO rt.events (room, seq, event, actor, data, at)
SELECT r.id, 1, 'room_created', r.owner, jsonb_build_object('kind', 'chat', 'title', r.title, 'owner', r.owner, 'state', NULL),
       now() - interval '1 year'
  FROM rt.rooms r WHERE r.id LIKE 'sb\_%' ON CONFLICT DO NOTHING;
VACUUM ANALYZE rt.events;
VACUUM ANALYZE rt.messages;
VACUUM ANALYZE rt.members;
