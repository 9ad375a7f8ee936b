-- mark_read, history, events_since.
BEGIN;
\ir helpers.psql
SELECT plan(52);

SELECT rt.create_room('chat', 'ann', id => 'r');
SELECT rt.add_member('r', 'bob');
SELECT rt.add_member('r', 'vic', 'viewer');
SELECT rt.post_message('r', 'bob', 'm' || n) FROM generate_series(1, 10) n;   -- seq 4..13

-- mark_read
SELECT lives_ok($$SELECT rt.mark_read('r', 'vic', 5)$$, 'a viewer marks read');
SELECT is((SELECT last_read_seq FROM rt.members WHERE room = 'r' AND user_id = 'vic'), 5::bigint, 'last_read_seq stored');
SELECT is(tests.last_sent() - 'at', '{"type":"event","room":"r","event":"read","actor":"vic","data":{"user":"vic","seq":5}}',
          'a read signal');
SELECT tests.changes_nothing($$SELECT rt.mark_read('r', 'vic', 3)$$, 'an older seq changes and signals nothing');
SELECT tests.changes_nothing($$SELECT rt.mark_read('r', 'vic', 5)$$, 'the same seq changes and signals nothing');
SELECT * FROM tests.rejects($$SELECT rt.mark_read('r', 'vic', 14)$$, 'BAD_REQUEST', 'a seq beyond the latest');
SELECT * FROM tests.rejects($$SELECT rt.mark_read('r', 'vic', -1)$$, 'BAD_REQUEST', 'a negative seq');
SELECT * FROM tests.rejects($$SELECT rt.mark_read('r', 'eve', 1)$$, 'FORBIDDEN', 'a non-member');
SELECT * FROM tests.rejects($$SELECT rt.mark_read('nope', 'vic', 1)$$, 'FORBIDDEN', 'a missing room');

-- history: newest `max` before before_seq, ascending.
SELECT is((SELECT array_agg((h ->> 'seq')::int) FROM rt.history('r') h), ARRAY[1,2,3,4,5,6,7,8,9,10,11,12,13],
          'history: everything, ascending');
SELECT is((SELECT array_agg((h ->> 'seq')::int) FROM rt.history('r', NULL, 3) h), ARRAY[11,12,13], 'the newest 3');
SELECT is((SELECT array_agg((h ->> 'seq')::int) FROM rt.history('r', 11, 3) h), ARRAY[8,9,10], 'the 3 before 11');
SELECT is((SELECT array_agg((h ->> 'seq')::int) FROM rt.history('r', 3, 50) h), ARRAY[1,2], 'before 3');
SELECT is((SELECT count(*)::int FROM rt.history('r', 1)), 0, 'nothing before 1');
SELECT is((SELECT h FROM rt.history('r', 5, 1) h), (SELECT rt.event_json(e) FROM rt.events e WHERE room = 'r' AND seq = 4),
          'history returns the wire shape');
SELECT is((SELECT count(*)::int FROM rt.history('r', actor => 'vic')), 13, 'with an actor who may read');
SELECT * FROM tests.rejects($$SELECT rt.history('r', actor => 'eve')$$, 'FORBIDDEN', 'history for a non-member');
SELECT * FROM tests.rejects($$SELECT rt.history('nope', actor => 'eve')$$, 'FORBIDDEN', 'history of a missing room with actor');
SELECT * FROM tests.rejects($$SELECT rt.history('nope')$$, 'NOT_FOUND', 'history of a missing room, trusted');
SELECT * FROM tests.rejects($$SELECT rt.history('r', 0)$$, 'BAD_REQUEST', 'before_seq 0');
SELECT * FROM tests.rejects($$SELECT rt.history('r', NULL, 0)$$, 'BAD_REQUEST', 'max 0');
SELECT * FROM tests.rejects($$SELECT rt.history('r', NULL, 1001)$$, 'BAD_REQUEST', 'max 1001');
SELECT * FROM tests.rejects($$SELECT rt.history('no room')$$, 'BAD_REQUEST', 'an invalid room id');

-- events_since: ascending after after_seq.
SELECT is((SELECT array_agg((e ->> 'seq')::int) FROM rt.events_since('r', 10) e), ARRAY[11,12,13], 'events after 10');
SELECT is((SELECT array_agg((e ->> 'seq')::int) FROM rt.events_since('r', 0, 2) e), ARRAY[1,2], 'the first 2');
SELECT is((SELECT count(*)::int FROM rt.events_since('r', 13)), 0, 'nothing after the latest');
SELECT is((SELECT count(*)::int FROM rt.events_since('r', 0, 1000, 'vic')), 13, 'with an actor who may read');
SELECT * FROM tests.rejects($$SELECT rt.events_since('r', 0, 10, 'eve')$$, 'FORBIDDEN', 'events_since for a non-member');
SELECT * FROM tests.rejects($$SELECT rt.events_since('nope', 0, 10, 'eve')$$, 'FORBIDDEN', 'events_since of a missing room with actor');
SELECT * FROM tests.rejects($$SELECT rt.events_since('nope', 0)$$, 'NOT_FOUND', 'events_since of a missing room, trusted');
SELECT * FROM tests.rejects($$SELECT rt.events_since('r', -1)$$, 'BAD_REQUEST', 'a negative after_seq');
SELECT * FROM tests.rejects($$SELECT rt.events_since('r', NULL)$$, 'BAD_REQUEST', 'no after_seq');
SELECT * FROM tests.rejects($$SELECT rt.events_since('r', 0, 5000)$$, 'BAD_REQUEST', 'max over 1000');

-- Reads keep working after the end.
SELECT rt.end_room('r', 'ann');
SELECT is((SELECT count(*)::int FROM rt.events_since('r', 0)), 14, 'events_since after the end');
SELECT lives_ok($$SELECT rt.mark_read('r', 'vic', 14)$$, 'mark_read after the end');

SELECT * FROM finish();
ROLLBACK;
