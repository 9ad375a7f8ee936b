-- rt.batch: isolation of each command, ordering by room, limits, error mapping.
BEGIN;
\ir helpers.psql
SELECT plan(24);

SELECT rt.create_room('chat', 'ann', id => 'a');
SELECT rt.create_room('chat', 'ann', id => 'b');
SELECT rt.add_member(x, 'bob') FROM unnest(ARRAY['a', 'b']) x;

-- One failing command among good ones: only it is rolled back, with its NOTIFY.
CREATE TEMP TABLE res AS
SELECT * FROM rt.batch('b1', $$[
    {"conn":"c1","user":"bob","frame":{"type":"send","room":"b","body":"b-first"}},
    {"conn":"c1","user":"bob","frame":{"type":"send","room":"a","body":"a-only"}},
    {"conn":"c1","user":"eve","frame":{"type":"send","room":"b","body":"from eve"}},
    {"conn":"c1","user":"bob","frame":{"type":"send","room":"b","body":"b-second"}},
    {"conn":"c1","user":"bob","frame":{"type":"state","room":"b","to":"IDLE"}}
]$$);
SELECT is((SELECT array_agg(i ORDER BY i) FROM res), ARRAY[0,1,2,3,4], 'one row per command, by index');
SELECT is((SELECT array_agg(ok ORDER BY i) FROM res), ARRAY[true,true,false,true,false], 'ok per command');
SELECT is((SELECT body::jsonb ->> 'seq' FROM res WHERE i = 0), '3', 'command 0: its event with seq');
SELECT is((SELECT body::jsonb FROM res WHERE i = 2), '{"code":"FORBIDDEN","message":"eve is not a member of room b","retry":false}',
          'command 2: its own error object');
SELECT is((SELECT body::jsonb ->> 'code' FROM res WHERE i = 4), 'INVALID_TRANSITION', 'command 4: its own error');
SELECT is((SELECT body::jsonb ->> 'seq' FROM res WHERE i = 3), '4', 'command 3 follows command 0 in room b: no gap left by command 2');
SELECT is((SELECT count(*)::int FROM rt.events WHERE data ->> 'body' = 'from eve'), 0, 'the failed command stored nothing');
SELECT is((SELECT count(*)::int FROM tests.sent WHERE payload LIKE '%from eve%'), 0, 'and notified nothing');
SELECT is((SELECT string_agg(payload::jsonb -> 'data' ->> 'body', ',' ORDER BY n) FROM tests.sent),
          'a-only,b-first,b-second', 'executed in room order, same-room commands in their given order');

-- Malformed commands fail alone.
CREATE TEMP TABLE res2 AS
SELECT * FROM rt.batch('b1', $$[
    42,
    {"user":"bob","frame":{"type":"send","room":"a","body":"x"}},
    {"conn":"c1","frame":{"type":"send","room":"a","body":"x"}},
    {"conn":"c1","user":"bob"},
    {"conn":"c1","user":"bob","frame":"send"},
    {"conn":"c1","user":"bob","frame":{"type":"send","room":"a","body":"fine"}}
]$$);
SELECT is((SELECT array_agg(ok ORDER BY i) FROM res2), ARRAY[false,false,false,false,false,true], 'only the well-formed command succeeds');
SELECT is((SELECT array_agg(body::jsonb ->> 'message' ORDER BY i) FROM res2 WHERE NOT ok),
          ARRAY['a command must be an object {"conn","user","frame"}', '"conn" is required', '"user" is required',
                '"frame" is required', '"frame" must be an object'], 'each says what is wrong');

-- An unexpected error is INTERNAL with a generic message (the details go to the server log).
ALTER TABLE rt.events ADD CONSTRAINT test_no_boom CHECK (data ->> 'body' IS DISTINCT FROM 'boom');
SELECT is((SELECT body::jsonb FROM rt.batch('b1', '[{"conn":"c1","user":"bob","frame":{"type":"send","room":"a","body":"boom"}}]')),
          '{"code":"INTERNAL","message":"internal error","retry":false}', 'a non-contract error becomes INTERNAL');
ALTER TABLE rt.events DROP CONSTRAINT test_no_boom;

-- Sizes.
SELECT is((SELECT count(*)::int FROM rt.batch('b1', '[]')), 0, 'an empty batch');
SELECT is((SELECT count(*)::int FROM rt.batch('b1',
          (SELECT jsonb_agg(jsonb_build_object('conn', 'c1', 'user', 'bob',
                                               'frame', jsonb_build_object('type', 'send', 'room', 'a', 'body', 'n' || n)))
             FROM generate_series(1, 64) n)) WHERE ok), 64, '64 commands, all ok');
SELECT is((SELECT array_agg(DISTINCT seq_gap) FROM (
              SELECT seq - lag(seq) OVER (ORDER BY seq) AS seq_gap FROM rt.events WHERE room = 'a') g WHERE seq_gap IS NOT NULL),
          ARRAY[1::bigint], 'room a''s seq has no gaps');
SELECT * FROM tests.rejects($$SELECT * FROM rt.batch('b1',
          (SELECT jsonb_agg(jsonb_build_object('conn', 'c1', 'user', 'bob', 'frame', jsonb_build_object('type', 'read', 'room', 'a', 'seq', 1)))
             FROM generate_series(1, 65)))$$, 'BAD_REQUEST', '65 commands');
SELECT * FROM tests.rejects($$SELECT * FROM rt.batch('b1', '{"conn":"c1"}')$$, 'BAD_REQUEST', 'commands not an array');
SELECT * FROM tests.rejects($$SELECT * FROM rt.batch('b1', NULL)$$, 'BAD_REQUEST', 'no commands');
SELECT * FROM tests.rejects($$SELECT * FROM rt.batch('', '[]')$$, 'BAD_REQUEST', 'an empty bridge_id');

-- Reads in a batch.
SELECT is((SELECT jsonb_array_length(body::jsonb -> 'events') FROM rt.batch('b1',
          '[{"conn":"c1","user":"bob","frame":{"type":"history","room":"b","limit":2}}]')), 2, 'history in a batch');

SELECT * FROM finish();
ROLLBACK;
