-- Presence: join / leave through rt.dispatch, disconnect, bridge heartbeat, stop and reaping.
BEGIN;
\ir helpers.psql
SELECT plan(49);

SELECT rt.create_room('conversation', 'ann', id => 'r');
SELECT rt.add_member('r', 'bob');
SELECT rt.add_member('r', 'vic', 'viewer');
SELECT rt.create_room('chat', 'ann', id => 's');
SELECT rt.add_member('s', 'bob');

CREATE FUNCTION pg_temp.presence_signals() RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg((payload::jsonb -> 'data' ->> 'user') || ':' || (payload::jsonb -> 'data' ->> 'status')
                               || '@' || (payload::jsonb ->> 'room'), ' ' ORDER BY n), '')
      FROM tests.sent WHERE payload::jsonb ->> 'event' = 'presence' $$;

SELECT is(rt.dispatch('b1', 'c1', 'bob', '{"type":"join","room":"r","ref":"x"}'),
          '{"room":"r","kind":"conversation","seq":3,"state":"IDLE","version":0,"presence":["bob"],"recovered":true,"role":"member"}',
          'join reply');
SELECT is(pg_temp.presence_signals(), 'bob:joined@r', 'bob''s first connection: presence joined');
SELECT is(tests.last_sent() - 'at', '{"type":"event","room":"r","event":"presence","actor":"bob","data":{"user":"bob","status":"joined"}}',
          'the presence signal shape');
SELECT ok((SELECT count(*) = 1 FROM rt.bridges WHERE id = 'b1'), 'the bridge was registered by its first join');
SELECT is(rt.dispatch('b2', 'c9', 'bob', '{"type":"join","room":"r"}') -> 'presence', '["bob"]', 'a second connection on another bridge');
SELECT is(pg_temp.presence_signals(), 'bob:joined@r', 'no second presence joined');
SELECT tests.changes_nothing($$SELECT rt.dispatch('b1', 'c1', 'bob', '{"type":"join","room":"r"}')$$,
                             'joining again on the same connection changes nothing');
SELECT is(rt.dispatch('b1', 'c2', 'vic', '{"type":"join","room":"r"}') -> 'presence', '["bob", "vic"]', 'presence lists distinct users');
SELECT is(rt.dispatch('b1', 'c2', 'vic', '{"type":"join","room":"r"}') ->> 'role', 'viewer', 'role in the join reply');
SELECT is(rt.dispatch('b1', 'c1', 'bob', '{"type":"join","room":"s"}') -> 'version', 'null', 'version is null without a state machine');
SELECT * FROM tests.rejects($$SELECT rt.dispatch('b1', 'c3', 'eve', '{"type":"join","room":"r"}')$$, 'FORBIDDEN', 'join by a non-member');
SELECT * FROM tests.rejects($$SELECT rt.dispatch('b1', 'c3', 'eve', '{"type":"join","room":"nope"}')$$, 'FORBIDDEN', 'join of a missing room');
SELECT * FROM tests.rejects($$SELECT rt.dispatch('b1', 'c3', 'bob', '{"type":"join","room":"r","since":-1}')$$, 'BAD_REQUEST', 'a negative since');

-- recovered
SELECT rt.post_message('r', 'bob', 'm' || n) FROM generate_series(1, 5) n;  -- seq 4..8
SELECT is(rt.dispatch('b1', 'c1', 'bob', '{"type":"join","room":"r","since":0}') -> 'recovered', 'true', 'since 0 with a full log');
SELECT is(rt.dispatch('b1', 'c1', 'bob', '{"type":"join","room":"r","since":8}') -> 'recovered', 'true', 'since = latest');
SELECT is(rt.dispatch('b1', 'c1', 'bob', '{"type":"join","room":"r","since":9}') -> 'recovered', 'false', 'since beyond the latest');
DELETE FROM rt.events WHERE room = 'r' AND seq <= 5;   -- as retention would
SELECT is(rt.dispatch('b1', 'c1', 'bob', '{"type":"join","room":"r","since":4}') -> 'recovered', 'false', 'since 4 after 1..5 were pruned');
SELECT is(rt.dispatch('b1', 'c1', 'bob', '{"type":"join","room":"r","since":5}') -> 'recovered', 'true', 'since 5 after 1..5 were pruned');
SELECT is(rt.dispatch('b1', 'c1', 'bob', '{"type":"join","room":"r"}') -> 'recovered', 'true', 'no since: nothing to recover');

-- leave
DELETE FROM tests.sent;
SELECT is(rt.dispatch('b1', 'c1', 'bob', '{"type":"leave","room":"r"}'), '{}', 'leave reply');
SELECT is(pg_temp.presence_signals(), '', 'bob is still online through b2: no presence left');
SELECT is(rt.dispatch('b2', 'c9', 'bob', '{"type":"leave","room":"r"}'), '{}', 'the last connection leaves');
SELECT is(pg_temp.presence_signals(), 'bob:left@r', 'presence left');
SELECT tests.changes_nothing($$SELECT rt.dispatch('b2', 'c9', 'bob', '{"type":"leave","room":"r"}')$$,
                             'leaving a room one is not in changes nothing');

-- disconnect
SELECT rt.dispatch('b1', 'c1', 'bob', '{"type":"join","room":"r"}');
DELETE FROM tests.sent;
SELECT is(rt.disconnect('b1', 'c1'), 2, 'disconnect drops the connection from both rooms');
SELECT is(pg_temp.presence_signals(), 'bob:left@r bob:left@s', 'presence left in each room');
SELECT is((SELECT count(*)::int FROM rt.presence WHERE conn_id = 'c1'), 0, 'no presence left for c1');
SELECT * FROM tests.rejects($$SELECT rt.disconnect('b1', NULL)$$, 'BAD_REQUEST', 'disconnect without conn_id');

-- heartbeat, stop, reap
SELECT is(rt.bridge_heartbeat('b1', '{"version":"1"}'), true, 'heartbeat of a known bridge: true');
SELECT is(rt.bridge_heartbeat('b3'), false, 'first heartbeat: false');
SELECT is((SELECT info FROM rt.bridges WHERE id = 'b1'), '{"version":"1"}', 'heartbeat stores info');
SELECT * FROM tests.rejects($$SELECT rt.bridge_heartbeat('b1', '[]')$$, 'BAD_REQUEST', 'heartbeat info not an object');
SELECT rt.dispatch('b3', 'k1', 'bob', '{"type":"join","room":"r"}');
DELETE FROM tests.sent;
SELECT is(rt.bridge_stopped('b3'), 1, 'bridge_stopped removes its presence');
SELECT is(pg_temp.presence_signals(), 'bob:left@r', 'with presence left');
UPDATE rt.bridges SET last_seen = now() - interval '1 minute' WHERE id = 'b1';
SELECT rt.bridge_heartbeat('b2');
DELETE FROM tests.sent;
SELECT is(rt.reap_bridges('30 seconds'), 1, 'reap_bridges removes the stale bridge');
SELECT set_eq('SELECT id FROM rt.bridges', ARRAY['b2'], 'only the live bridge remains');
SELECT is((SELECT count(*)::int FROM rt.presence WHERE bridge_id = 'b1'), 0, 'the stale bridge''s presence is gone');
SELECT is(pg_temp.presence_signals(), 'vic:left@r', 'with presence left where it was the last connection');
SELECT * FROM tests.rejects($$SELECT rt.reap_bridges('0 seconds')$$, 'BAD_REQUEST', 'a zero stale_after');
SELECT * FROM tests.rejects($$SELECT rt.bridge_stopped(NULL)$$, 'BAD_REQUEST', 'bridge_stopped without a bridge id');
SELECT * FROM tests.rejects($$SELECT rt.bridge_heartbeat(E'b\x01')$$, 'BAD_REQUEST', 'a bridge id with a control character');

SELECT * FROM finish();
ROLLBACK;
