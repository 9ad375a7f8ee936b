-- Retention policies per kind and per room, legal holds (docs/sql-api.md "Retention and legal holds").
BEGIN;
\ir helpers.psql
SELECT plan(53);

SELECT rt.create_room('chat', 'ann', id => 'c1');
SELECT rt.create_room('chat', 'ann', id => 'c2');
SELECT rt.create_room('meeting', 'ann', id => 'm1');
SELECT rt.add_member(x, 'bob') FROM unnest(ARRAY['c1', 'c2', 'm1']) x;
SELECT rt.post_message(x, 'bob', 'm' || n) FROM unnest(ARRAY['c1', 'c2', 'm1']) x, generate_series(1, 8) n;  -- seq 3..10

-- The default is the setting (30 days): nothing is old enough.
SELECT is(rt.retention_policy('c1') - 'room', '{"age": "30 days", "hold": null, "source": "setting", "keep_days": null, "keep_events": null}',
          'default policy: the retention setting');
SELECT is(rt.prune_events(), 0::bigint, 'nothing to prune by default');

-- Per kind, by count: chat rooms keep their newest 4 events.
SELECT rt.set_kind_retention('chat', NULL, 4);
SELECT is(rt.retention_policy('c1', 'bob') ->> 'source', 'kind', 'the kind''s policy applies');
SELECT is(rt.prune_events(), 12::bigint, 'two chat rooms lose 6 events each');
SELECT is((SELECT array_agg(seq ORDER BY seq) FROM rt.events WHERE room = 'c1'), ARRAY[7,8,9,10]::bigint[],
          'the newest 4 remain');
SELECT is((SELECT count(*)::int FROM rt.events WHERE room = 'm1'), 10, 'the meeting room is untouched');
SELECT is((SELECT count(*)::int FROM rt.messages WHERE room = 'c1'), 4, 'messages of pruned events go too');
SELECT is(rt.dispatch('b', 'c', 'bob', '{"type":"join","room":"c1","since":5}') -> 'recovered', 'false',
          'recovered:false after pruning by count');
SELECT is(rt.dispatch('b', 'c', 'bob', '{"type":"join","room":"c1","since":6}') -> 'recovered', 'true',
          'recovered:true from what remains');

-- Per room overrides the kind as a whole: c2 keeps everything.
SELECT is(rt.set_room_retention('c2', NULL, NULL, 'ann') ->> 'source', 'room', 'the room''s policy applies');
SELECT rt.post_message(x, 'bob', 'more' || n) FROM unnest(ARRAY['c1', 'c2']) x, generate_series(1, 3) n;
SELECT is(rt.prune_events(), 3::bigint, 'c1 loses 3 more, c2 none');
SELECT is((SELECT count(*)::int FROM rt.events WHERE room = 'c2'), 7, 'c2 kept its events');

-- By age, per room.
SELECT rt.set_room_retention('m1', 2, NULL);
UPDATE rt.events SET at = now() - interval '3 days' WHERE room = 'm1' AND seq <= 4;
SELECT is(rt.prune_events(), 4::bigint, 'm1 loses the events older than 2 days');
SELECT is((SELECT min(seq) FROM rt.events WHERE room = 'm1'), 5::bigint, 'a prefix went');

-- Reset: back to the kind (c2 keeps 4 again).
SELECT is(rt.set_room_retention('c2', NULL, NULL, 'ann', reset => true) ->> 'source', 'kind', 'reset returns to the kind');

-- A legal hold stops pruning: on a room, then on a kind.
SELECT rt.place_legal_hold('c2', NULL, 'litigation', 'legal');
SELECT is(rt.retention_policy('c2') #>> '{hold,reason}', 'litigation', 'the policy shows the hold');
SELECT is(rt.prune_events(), 0::bigint, 'a held room is not pruned');
SELECT is((SELECT count(*)::int FROM rt.events WHERE room = 'c2'), 7, 'c2 keeps everything while held');
SELECT rt.release_legal_hold('c2', NULL, 'legal');
SELECT rt.place_legal_hold(NULL, 'chat', 'audit 2026', 'legal');
SELECT is(rt.retention_policy('c2') #>> '{hold,scope}', 'kind', 'a kind hold applies to its rooms');
SELECT is(rt.prune_events(), 0::bigint, 'every chat room is held');
SELECT rt.release_legal_hold(NULL, 'chat', 'legal');
SELECT is(rt.prune_events(), 3::bigint, 'released: c2 is pruned to 4');

-- Errors change nothing.
SELECT tests.rejects($$SELECT rt.set_room_retention('c1', 0, NULL, 'ann')$$, 'BAD_REQUEST', 'keep_days 0');
SELECT tests.rejects($$SELECT rt.set_room_retention('c1', NULL, 0, 'ann')$$, 'BAD_REQUEST', 'keep_events 0');
SELECT tests.rejects($$SELECT rt.set_room_retention('c1', 1, NULL, 'ann', NULL)$$, 'BAD_REQUEST', 'reset NULL');
SELECT tests.rejects($$SELECT rt.set_room_retention('c1', 1, NULL, 'ann', true)$$, 'BAD_REQUEST', 'reset with values');
SELECT tests.rejects($$SELECT rt.set_room_retention('c1', 1, NULL, 'bob')$$, 'FORBIDDEN', 'a member may not');
SELECT tests.rejects($$SELECT rt.set_room_retention('nope', 1, NULL)$$, 'NOT_FOUND', 'a missing room (trusted)');
SELECT tests.rejects($$SELECT rt.set_kind_retention('nope', 1, NULL)$$, 'BAD_REQUEST', 'an unknown kind');
SELECT tests.rejects($$SELECT rt.place_legal_hold('c1', 'chat', 'x', 'legal')$$, 'BAD_REQUEST', 'room and kind');
SELECT tests.rejects($$SELECT rt.place_legal_hold(NULL, NULL, 'x', 'legal')$$, 'BAD_REQUEST', 'neither room nor kind');
SELECT tests.rejects($$SELECT rt.place_legal_hold('c1', NULL, '', 'legal')$$, 'BAD_REQUEST', 'an empty reason');
SELECT tests.rejects($$SELECT rt.place_legal_hold('c1', NULL, 'x', NULL)$$, 'BAD_REQUEST', 'no held_by');
SELECT tests.rejects($$SELECT rt.place_legal_hold('nope', NULL, 'x', 'legal')$$, 'NOT_FOUND', 'a missing room');
SELECT rt.place_legal_hold('c1', NULL, 'x', 'legal');
SELECT tests.rejects($$SELECT rt.place_legal_hold('c1', NULL, 'y', 'legal')$$, 'CONFLICT', 'a second hold');
SELECT tests.rejects($$SELECT rt.release_legal_hold('c2', NULL, 'legal')$$, 'NOT_FOUND', 'releasing what is not held');
SELECT tests.rejects($$SELECT rt.retention_policy('c1', 'eve')$$, 'FORBIDDEN', 'a non-member reads no policy');

-- Who may do what.
SELECT ok(NOT has_function_privilege('rt_service', 'rt.place_legal_hold(text,text,text,text)', 'EXECUTE')
          AND NOT has_function_privilege('rt_service', 'rt.release_legal_hold(text,text,text)', 'EXECUTE')
          AND NOT has_function_privilege('rt_service', 'rt.set_kind_retention(text,integer,bigint,boolean)', 'EXECUTE'),
          'room owners (through rt_service) cannot touch holds or kind retention');
SELECT ok(has_function_privilege('rt_compliance', 'rt.place_legal_hold(text,text,text,text)', 'EXECUTE'),
          'rt_compliance places holds');

SELECT * FROM finish();
ROLLBACK;
