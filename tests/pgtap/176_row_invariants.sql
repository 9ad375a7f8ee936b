-- What the write path's tables promise, checked on the rows every writer leaves behind (migrations
-- 0045-0048: PostgreSQL no longer computes search_tsv, the row rules of rt.events are one CHECK with
-- a cheaper pattern, and one trigger on rt.events writes the audit rows and the transcript index):
--   - every rt.messages row holds rt.search_document(search_config, room, body) in search_tsv, after
--     posts (direct and set), edits, deletes, an erasure, language changes;
--   - every row satisfies each of the seven CHECK rules rt.events and rt.messages had in 0004 (as
--     written there, so the rewritten patterns are checked against the originals);
--   - every audited event has its audit row, every indexable transcript its index row, nothing else;
--   - no role but the tables' owner may write them (so the functions are their only writers).
BEGIN;
\ir helpers.psql
SELECT plan(16);

CREATE FUNCTION tests.tsv_mismatches() RETURNS integer LANGUAGE sql AS $$
    SELECT count(*)::int FROM rt.messages m
     WHERE m.search_tsv IS DISTINCT FROM rt.search_document(m.search_config, m.room, m.body) $$;

-- The seven CHECK expressions of migrations/0004_rooms.sql, word for word: rows that break one.
CREATE FUNCTION tests.check_breakers() RETURNS integer LANGUAGE sql AS $$
    SELECT (SELECT count(*) FROM rt.events
             WHERE (seq > 0) IS FALSE OR (event ~ '^[a-z][a-z0-9_]{0,63}$') IS FALSE
                OR (jsonb_typeof(data) = 'object') IS FALSE)::int
         + (SELECT count(*) FROM rt.messages
             WHERE (jsonb_typeof(meta) = 'object') IS FALSE
                OR (char_length(client_msg_id) BETWEEN 1 AND 128) IS FALSE
                OR ((deleted_at IS NULL) = (body IS NOT NULL)) IS FALSE
                OR (deleted_at IS NULL OR (media_url IS NULL AND meta = '{}')) IS FALSE)::int $$;

-- The seq of the message in room whose body starts with prefix.
CREATE FUNCTION tests.seq_of(room text, prefix text) RETURNS bigint LANGUAGE sql AS $$
    SELECT m.seq FROM rt.messages m WHERE m.room = seq_of.room AND m.body LIKE prefix || '%' $$;

SELECT rt.create_room('chat', 'ann', 'A', 'a');
SELECT rt.create_room('chat', 'ann', NULL, 'e');
SELECT rt.create_room('meeting', 'ann', NULL, 'm');
SELECT rt.create_room('chat', 'eve', NULL, 'o');                     -- eve owns it: she may edit ann's words
SELECT rt.add_member(r, u) FROM unnest(ARRAY['a', 'e', 'm']) r, unnest(ARRAY['bob', 'eve']) u;
SELECT rt.add_member('o', 'ann');
SELECT rt.add_member('m', 'svc', 'service');
SELECT rt.add_member('m', 'eve', 'service');                        -- a role change
SELECT rt.update_room('a', 'ann', 'A room', '{"topic": "x"}');
SELECT rt.set_room_search('e', 'english');

-- Posts on the direct path: every field, a body of 2048+ characters (with a word too long to index).
SELECT rt.post_message('a', 'bob', 'Hello there, meetings tomorrow');
SELECT rt.post_message('a', 'eve', 'eve''s words', 'https://x.example/p.png', '{"k": 1}', 'c-1');
SELECT rt.post_message('e', 'bob', 'running dogs ' || repeat('z', 3000) || ' tail words');
SELECT rt.post_message('e', 'eve', 'eve in english');
SELECT rt.post_message('o', 'ann', 'ann in o');
-- A batch: a set over two rooms with a refused send, a retry, a long body; a batch of one.
SELECT is((SELECT array_agg(ok ORDER BY i) FROM rt.batch('b1', $$[
  {"conn":"c1","user":"bob","frame":{"type":"send","room":"a","body":"set one","client_msg_id":"s-1"}},
  {"conn":"c1","user":"stranger","frame":{"type":"send","room":"a","body":"refused"}},
  {"conn":"c1","user":"eve","frame":{"type":"send","room":"e","body":"set jumping","meta":{"x":[1]}}},
  {"conn":"c1","user":"eve","frame":{"type":"send","room":"a","body":"again","client_msg_id":"c-1"}}
]$$::jsonb || jsonb_build_array(jsonb_build_object('conn', 'c1', 'user', 'bob', 'frame',
             jsonb_build_object('type', 'send', 'room', 'e', 'body', 'set long ' || repeat('y', 2100)))))),
          ARRAY[true, false, true, true, true], 'a mixed batch');
SELECT is((SELECT ok FROM rt.batch('b1', '[{"conn":"c1","user":"bob","frame":{"type":"send","room":"m","body":"batch of one"}}]')),
          true, 'a batch of one');

-- Edits (one making a body long), a delete, transcripts, a removed member, an ended room.
SELECT rt.edit_message('a', 'bob', tests.seq_of('a', 'Hello'), 'Hello again, edited words');
SELECT rt.edit_message('e', 'eve', tests.seq_of('e', 'eve in'), 'eve edits ' || repeat('w', 2500) || ' her english');
SELECT rt.edit_message('o', 'eve', tests.seq_of('o', 'ann in o'), 'eve rewrote ann');
SELECT rt.delete_message('a', 'bob', tests.seq_of('a', 'set one'));
SELECT rt.publish('m', 'svc', 'transcript', '{"text": "spoken budget words", "speaker": "svc"}');
SELECT rt.publish('m', 'eve', 'transcript', '{"text": "eve spoke"}');
SELECT rt.publish('m', 'svc', 'transcript', '{"speaker": "svc"}');  -- no text: nothing to index
SELECT rt.remove_member('a', 'bob', 'ann');
SELECT rt.end_room('m', 'ann');

SELECT is(tests.tsv_mismatches(), 0, 'posts, sets, edits, deletes: search_tsv is the search document of every message');

-- Language changes re-index: off for a kind, another language for a room, back again.
SELECT rt.set_kind_search('chat', NULL);
SELECT is((SELECT count(*)::int FROM rt.messages WHERE room = 'a' AND search_tsv IS NOT NULL), 0, 'search off: nothing of the kind indexed');
SELECT is(tests.tsv_mismatches(), 0, 'and every row agrees');
SELECT rt.set_room_search('e', 'german');
SELECT rt.set_kind_search('chat', NULL, reset => true);
SELECT is(tests.tsv_mismatches(), 0, 'after re-indexing in other languages');

-- Erasure: eve's messages leave the index, ann's message that eve edited is indexed by its old text.
SELECT rt.erase_user('eve', 'dpo');
SELECT is((SELECT body FROM rt.messages WHERE room = 'o' AND seq = tests.seq_of('o', 'ann in o')), 'ann in o', 'erasure restored ann''s text');
SELECT is((SELECT count(*)::int FROM rt.search('ann', 'ann', 'o')), 1, 'and search finds it by that text');
SELECT is(tests.tsv_mismatches(), 0, 'after an erasure');
SELECT is(tests.check_breakers(), 0, 'every event and message row satisfies the seven CHECK rules of 0004');

-- The trigger: audit rows exactly for the audited events, index rows exactly for the transcripts with text.
-- (Only this file's rooms: the trail outlives the rooms and events other suites leave behind.)
SELECT set_eq($$SELECT room, seq, action FROM rt.audit WHERE room IN ('a', 'e', 'm', 'o')
                   AND action = ANY ('{room_created,room_updated,room_ended,member_added,member_removed,state}')$$,
              $$SELECT room, seq, event FROM rt.events WHERE room IN ('a', 'e', 'm', 'o')
                   AND event = ANY ('{room_created,room_updated,room_ended,member_added,member_removed,state}')$$,
              'one audit row per audited event');
SELECT ok((SELECT count(*) FROM rt.audit WHERE room IN ('a', 'e', 'm', 'o')
             AND action IN ('room_created', 'member_removed', 'room_ended', 'room_updated')) = 7,
          'of each kind (4 rooms created, a member removed, a room ended, a room updated)');
SELECT set_eq($$SELECT room, seq FROM rt.transcript_search WHERE room IN ('a', 'e', 'm', 'o')$$,
              $$SELECT room, seq FROM rt.events WHERE room IN ('a', 'e', 'm', 'o')
                   AND event = 'transcript' AND jsonb_typeof(data -> 'text') = 'string'$$,
              'one index row per transcript with text (the erased one has none)');

-- The patterns rewritten without bounded repetition (migrations 0045, 0048) decide as the originals.
CREATE TEMP TABLE samples AS
SELECT x FROM unnest(ARRAY['', 'a', 'A-b_9', repeat('a', 64), repeat('a', 65), 'bad id!', 'é', '9x', 'x9_',
                           repeat('b', 63) || 'Z', E'a\nb', 'a-b', '_']) AS x;
SELECT is((SELECT count(*)::int FROM samples
            WHERE (rt.room_id_problem(x) IS NULL) <> (x ~ '^[A-Za-z0-9_-]{1,64}$')
               OR rt.room_row_valid(x, NULL, 'o', 0, 0, '{}') <> (x ~ '^[A-Za-z0-9_-]{1,64}$')), 0,
          'room ids: the rule and the rooms CHECK decide as ^[A-Za-z0-9_-]{1,64}$');
SELECT is((SELECT count(*)::int FROM samples
            WHERE (char_length(x) BETWEEN 1 AND 64 AND x ~ '^[a-z][a-z0-9_]*$') <> (x ~ '^[a-z][a-z0-9_]{0,63}$')), 0,
          'event names: the CHECK''s form decides as ^[a-z][a-z0-9_]{0,63}$');

-- Nobody but the owner may write these tables, so the functions above are their only writers
-- (a role granted pg_write_all_data by a superuser would count here).
SELECT is((SELECT count(*)::int FROM pg_roles r, unnest(ARRAY['rt.events', 'rt.messages', 'rt.rooms']::regclass[]) t
            WHERE NOT r.rolsuper AND r.rolname !~ '^pg_'  -- predefined roles (pg_write_all_data): their members count
              AND r.oid <> (SELECT c.relowner FROM pg_class c WHERE c.oid = t)
              AND has_table_privilege(r.oid, t, 'INSERT,UPDATE,DELETE,TRUNCATE')), 0,
          'no role but the owner (and superusers) may write rt.events, rt.messages or rt.rooms');

SELECT * FROM finish();
ROLLBACK;
