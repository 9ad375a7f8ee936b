-- prune_events: removes old events (a prefix of each room's log), never reuses seq, and joins
-- report recovered = false for a since older than what remains.
BEGIN;
\ir helpers.psql
SELECT plan(13);

SELECT rt.create_room('chat', 'ann', id => 'r');
SELECT rt.add_member('r', 'bob');
SELECT rt.post_message('r', 'bob', 'm' || n, client_msg_id => 'k' || n) FROM generate_series(1, 6) n;  -- seq 3..8
SELECT rt.create_room('chat', 'ann', id => 'fresh');

-- Age the first five events of r beyond retention; seq 4 is made younger than seq 5 to show that
-- a room always loses a prefix (no holes) even when `at` is not monotonic.
UPDATE rt.events SET at = now() - interval '40 days' WHERE room = 'r' AND seq <= 5;
UPDATE rt.events SET at = now() - interval '1 day' WHERE room = 'r' AND seq = 4;

SELECT is(rt.prune_events(), 5::bigint, 'prune_events returns the number removed');
SELECT is((SELECT array_agg(seq ORDER BY seq) FROM rt.events WHERE room = 'r'), ARRAY[6,7,8]::bigint[], 'a prefix of r''s log went');
SELECT is((SELECT count(*)::int FROM rt.events WHERE room = 'fresh'), 1, 'other rooms keep young events');
SELECT is((SELECT count(*)::int FROM rt.messages WHERE room = 'r'), 3, 'their messages went too');
SELECT is(rt.prune_events(), 0::bigint, 'nothing more to prune');
SELECT is(rt.post_message('r', 'bob', 'new') ->> 'seq', '9', 'seq is not reused after pruning');
SELECT is((SELECT array_agg((e ->> 'seq')::int) FROM rt.events_since('r', 0) e), ARRAY[6,7,8,9], 'events_since serves what remains');
SELECT is(rt.dispatch('b', 'c', 'bob', '{"type":"join","room":"r","since":4}') -> 'recovered', 'false', 'since 4: not recovered');
SELECT is(rt.dispatch('b', 'c', 'bob', '{"type":"join","room":"r","since":5}') -> 'recovered', 'true', 'since 5: recovered');
SELECT is(rt.post_message('r', 'bob', 'again', client_msg_id => 'k1') ->> 'seq', '10',
          'a pruned client_msg_id no longer deduplicates');

-- Retention follows the setting.
SELECT rt.set_setting('retention', '1 hour');
UPDATE rt.events SET at = now() - interval '2 hours' WHERE room = 'fresh';
SELECT is(rt.prune_events(), 1::bigint, 'a shorter retention prunes more');
SELECT is((SELECT last_seq FROM rt.rooms WHERE id = 'fresh'), 1::bigint, 'last_seq stays');
SELECT is(rt.dispatch('b', 'c', 'ann', '{"type":"join","room":"fresh","since":0}') -> 'recovered', 'false',
          'an emptied log: since 0 is not recovered');

SELECT * FROM finish();
ROLLBACK;
