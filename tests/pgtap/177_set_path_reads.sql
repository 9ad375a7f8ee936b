-- What the set path (rt.apply_sends, sql/215_send.sql) reads, and how:
--   - the text search configuration it stores with each message is rt.search_config's answer for the
--     room (it reads the room's and the kind's rows itself, with the room, instead of calling it):
--     a room's own language, a room with search off, a kind with search off, the default;
--   - it probes rt.rooms, rt.members, rt.room_search and rt.kind_search by primary key and never
--     scans them whole (its generic plans once hashed both tables on every batch: docs/benchmarks.md
--     "The write path");
--   - rt.emit_all notifies what rt.emit notifies, frame by frame, in order.
BEGIN;
\ir helpers.psql
SELECT plan(8);

SELECT rt.create_room('chat', 'ann', NULL, r) FROM unnest(ARRAY['own', 'off', 'plain']) r;
SELECT rt.create_room('meeting', 'ann', NULL, 'quiet');
SELECT rt.add_member(r, 'bob') FROM unnest(ARRAY['own', 'off', 'plain', 'quiet']) r;
SELECT rt.set_room_search('own', 'english');
SELECT rt.set_room_search('off', NULL);
SELECT rt.set_kind_search('meeting', NULL);
-- Enough rows that a whole-table scan would be a plan a planner considers.
SELECT rt.create_room('chat', 'ann', NULL, 'fill_' || g) FROM generate_series(1, 200) g;

-- Scans of each table in this transaction so far (pg_stat_xact_user_tables counts them as they run).
CREATE FUNCTION tests.seq_scans() RETURNS bigint LANGUAGE sql AS $$
    SELECT sum(seq_scan) FROM pg_stat_xact_user_tables
     WHERE relid IN ('rt.rooms'::regclass, 'rt.members'::regclass, 'rt.room_search'::regclass,
                     'rt.kind_search'::regclass) $$;
CREATE TEMP TABLE scans_before AS SELECT tests.seq_scans() AS n;

SELECT is((SELECT array_agg(ok ORDER BY i) FROM rt.batch('b', $$[
  {"conn":"c","user":"bob","frame":{"type":"send","room":"own","body":"running dogs"}},
  {"conn":"c","user":"bob","frame":{"type":"send","room":"off","body":"not indexed"}},
  {"conn":"c","user":"bob","frame":{"type":"send","room":"plain","body":"running plain"}},
  {"conn":"c","user":"bob","frame":{"type":"send","room":"quiet","body":"kind is off"}},
  {"conn":"c","user":"bob","frame":{"type":"send","room":"own","body":"more dogs"}},
  {"conn":"c","user":"nobody","frame":{"type":"send","room":"plain","body":"refused"}},
  {"conn":"c","user":"bob","frame":{"type":"send","room":"nowhere","body":"no such room"}}
]$$)), ARRAY[true, true, true, true, true, false, false], 'a set over four rooms, two refused');

SELECT is((SELECT tests.seq_scans() - n FROM scans_before), 0::bigint,
          'the set read rooms, members and search settings by key only (no whole-table scan)');

SELECT is((SELECT count(*)::int FROM rt.messages m WHERE m.room IN ('own', 'off', 'plain', 'quiet')
            AND m.search_config IS NOT DISTINCT FROM rt.search_config(m.room)), 5,
          'every message stored with rt.search_config of its room');
SELECT is((SELECT array_agg(m.search_config::text ORDER BY m.room, m.seq) FROM rt.messages m
            WHERE m.room IN ('own', 'off', 'plain', 'quiet')),
          ARRAY[NULL, 'english', 'english', 'simple', NULL],
          'off (room), english (room) twice, simple (default), off (kind)');
SELECT is((SELECT count(*)::int FROM rt.messages m WHERE m.room IN ('off', 'quiet') AND m.search_tsv IS NOT NULL), 0,
          'search off: no document');
SELECT is((SELECT count(*)::int FROM rt.search('bob', 'dog', 'own')), 2, 'english stems: dog finds dogs');

-- rt.emit_all against rt.emit: the same channels and payloads, in order (tags aside: the wrapper of
-- helpers.psql records the frames as sent, before the tag).
CREATE TEMP TABLE frames AS
SELECT ARRAY[jsonb_build_object('type', 'event', 'room', 'own', 'seq', 90, 'data', jsonb_build_object('x', 1)),
             jsonb_build_object('type', 'event', 'room', 'plain', 'seq', 91, 'data', jsonb_build_object('big', repeat('y', 8000))),
             jsonb_build_object('type', 'system', 'data', jsonb_build_object('z', true))] AS f;
CREATE TEMP TABLE by_one AS SELECT o, rt.emit(x) AS payload FROM frames, unnest(f) WITH ORDINALITY AS u (x, o);
CREATE TEMP TABLE mark AS SELECT max(n) AS n FROM tests.sent;
SELECT is((SELECT array_agg(e.payload) FROM frames, rt.emit_all(f) AS e),
          (SELECT array_agg(payload ORDER BY o) FROM by_one), 'emit_all returns what emit returns, in order');
SELECT is((SELECT array_agg(s.channel || ' ' || s.payload ORDER BY s.n) FROM tests.sent s, mark WHERE s.n > mark.n),
          (SELECT array_agg(s.channel || ' ' || s.payload ORDER BY s.n) FROM tests.sent s, mark
            WHERE s.n <= mark.n AND s.n > mark.n - 3),
          'and notifies the same channels and payloads (a ref for the large event)');

SELECT * FROM finish();
ROLLBACK;
