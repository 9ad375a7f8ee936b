-- Presence modes and occupancy: the online counter on every path that adds or removes presence,
-- list and count mode join replies and signals, the roster, occupancy and the threshold setter.
BEGIN;
\ir helpers.psql
SELECT plan(115);

SELECT rt.create_room('chat', 'ann', id => 'big');
SELECT rt.add_member('big', 'u' || lpad(g::text, 3, '0')) FROM generate_series(1, 30) g;
SELECT rt.add_member('big', 'vic', 'viewer');
SELECT rt.create_room('chat', 'ann', id => 'small');
SELECT rt.add_member('small', 'bob');

-- Every room's counter equals the distinct users of rt.presence (the invariant of rt.room_presence).
CREATE FUNCTION pg_temp.counters_ok() RETURNS boolean LANGUAGE sql AS $$
    SELECT NOT EXISTS (
        SELECT 1 FROM rt.rooms r
         WHERE coalesce((SELECT rp.online FROM rt.room_presence rp WHERE rp.room = r.id), 0)
               <> (SELECT count(DISTINCT p.user_id) FROM rt.presence p WHERE p.room = r.id)) $$;
CREATE FUNCTION pg_temp.signals(kind text) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(CASE WHEN kind = 'occupancy' THEN payload::jsonb -> 'data' ->> 'occupancy'
                                    ELSE (payload::jsonb -> 'data' ->> 'user') || ':' || (payload::jsonb -> 'data' ->> 'status') END,
                               ' ' ORDER BY n), '')
      FROM tests.sent WHERE payload::jsonb ->> 'event' = kind $$;
CREATE FUNCTION pg_temp.join(bridge text, conn text, usr text, room text) RETURNS jsonb LANGUAGE sql AS $$
    SELECT rt.dispatch(bridge, conn, usr, jsonb_build_object('type', 'join', 'room', room)) $$;

-- Catalogue and internals.
SELECT is((SELECT count(*)::int FROM rt.room_kinds WHERE presence_threshold = 200), 4, 'every kind starts at threshold 200');
SELECT throws_ok($$UPDATE rt.room_kinds SET presence_threshold = 1001 WHERE kind = 'chat'$$, '23514', NULL,
                 'a kind threshold above 1000 is refused');
SELECT throws_ok($$UPDATE rt.room_kinds SET presence_threshold = -1 WHERE kind = 'chat'$$, '23514', NULL,
                 'a negative kind threshold is refused');
SELECT is(rt.join_page_size(), 20, 'count-mode join replies carry at most 20 users');
SELECT is(rt.presence_threshold('big'), 200, 'a room follows its kind''s threshold');
SELECT is(rt.presence_threshold('nope'), NULL, 'no threshold for a missing room');
SELECT is(rt.online_count('big'), 0, 'nobody online yet');
SELECT is(rt.online_page('big', NULL, 5), '[]', 'an empty page');

-- The threshold setter.
SELECT is(rt.set_presence_threshold('big', 'ann', 5), 5, 'the owner sets the room''s threshold');
SELECT is(rt.presence_threshold('big'), 5, 'the room''s own threshold wins over its kind''s');
SELECT * FROM tests.rejects($$SELECT rt.set_presence_threshold('big', 'u001', 7)$$, 'FORBIDDEN', 'threshold set by a member');
SELECT * FROM tests.rejects($$SELECT rt.set_presence_threshold('big', 'eve', 7)$$, 'FORBIDDEN', 'threshold set by a stranger');
SELECT * FROM tests.rejects($$SELECT rt.set_presence_threshold('big', 'ann', 1001)$$, 'BAD_REQUEST', 'a threshold above 1000');
SELECT * FROM tests.rejects($$SELECT rt.set_presence_threshold('big', 'ann', -1)$$, 'BAD_REQUEST', 'a negative threshold');
SELECT * FROM tests.rejects($$SELECT rt.set_presence_threshold('no such', 'ann', 1)$$, 'BAD_REQUEST', 'a bad room id');
SELECT * FROM tests.rejects($$SELECT rt.set_presence_threshold('nope', NULL, 1)$$, 'NOT_FOUND', 'a trusted call for a missing room');
SELECT * FROM tests.rejects($$SELECT rt.set_presence_threshold('big', E'a\x01', 1)$$, 'BAD_REQUEST', 'an actor with a control character');
SELECT is(rt.set_presence_threshold('small', NULL, NULL), 200, 'a trusted call; NULL follows the kind');

-- List mode: up to the threshold, replies and signals are exactly as before.
SELECT pg_temp.join('b1', 'c' || g, 'u' || lpad(g::text, 3, '0'), 'big') FROM generate_series(1, 4) g;
SELECT is(pg_temp.join('b1', 'c5', 'u005', 'big') - 'seq',
          '{"room":"big","kind":"chat","state":null,"version":null,"presence":["u001","u002","u003","u004","u005"],"recovered":true,"role":"member"}',
          'at the threshold: the full list, no occupancy field');
SELECT is(pg_temp.signals('presence'), 'u001:joined u002:joined u003:joined u004:joined u005:joined', 'list mode: one presence signal per join');
SELECT is(pg_temp.signals('occupancy'), '', 'list mode: no occupancy signal');
SELECT is(rt.online_count('big'), 5, 'five online');

-- Count mode: above the threshold.
DELETE FROM tests.sent;
SELECT is(pg_temp.join('b1', 'c6', 'u006', 'big') - 'seq',
          '{"room":"big","kind":"chat","state":null,"version":null,"presence":["u001","u002","u003","u004","u005","u006"],"recovered":true,"role":"member","occupancy":6}',
          'above the threshold: occupancy and the first page of who');
SELECT is(tests.last_sent() - 'at', '{"type":"event","room":"big","event":"occupancy","actor":null,"data":{"occupancy":6}}',
          'the occupancy signal shape');
SELECT is(tests.last_channel(), rt.room_channel('big'), 'on the room''s channel');
SELECT is(pg_temp.signals('presence'), '', 'count mode: no presence signal');
SELECT pg_temp.join('b1', 'c' || g, 'u' || lpad(g::text, 3, '0'), 'big') FROM generate_series(7, 25) g;
SELECT is(pg_temp.join('b2', 'd26', 'u026', 'big') -> 'occupancy', '26', 'a join through another bridge counts too');
SELECT is(jsonb_array_length(pg_temp.join('b2', 'd27', 'u027', 'big') -> 'presence'), 20, 'the page is bounded');
SELECT is(pg_temp.join('b2', 'd28', 'u028', 'big') -> 'presence' ->> 19, 'u020', 'the page is the first of the roster, sorted');
SELECT is(pg_temp.signals('occupancy'), '6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28', 'one occupancy signal per new user');
SELECT is(rt.online_count('big'), 28, '28 online');

-- A second connection of an online user changes nothing but its own presence row.
DELETE FROM tests.sent;
SELECT is(pg_temp.join('b2', 'd1', 'u001', 'big') -> 'occupancy', '28', 'a second connection is not a second user');
SELECT is(tests.sent_count(), 0::bigint, 'and is not announced');
SELECT is(pg_temp.join('b1', 'c1', 'u001', 'big') -> 'occupancy', '28', 'joining again on the same connection');
SELECT ok(pg_temp.counters_ok(), 'counters match rt.presence after joins');

-- Leave.
SELECT is(rt.dispatch('b2', 'd1', 'u001', '{"type":"leave","room":"big"}'), '{}', 'leave of one of two connections');
SELECT is(tests.sent_count(), 0::bigint, 'the user is still online: nothing announced');
SELECT is(rt.dispatch('b2', 'd28', 'u028', '{"type":"leave","room":"big"}'), '{}', 'a user''s last connection leaves');
SELECT is(pg_temp.signals('occupancy'), '27', 'one occupancy signal');
SELECT is(rt.occupancy('big'), 27, 'rt.occupancy');

-- Disconnect, bridge stop, reaping: one occupancy signal per room, whatever the number of users.
DELETE FROM tests.sent;
SELECT is(rt.disconnect('b2', 'd27'), 1, 'disconnect of one connection');
SELECT is(pg_temp.signals('occupancy'), '26', 'occupancy after a disconnect');
DELETE FROM tests.sent;
SELECT is(rt.bridge_stopped('b2'), 1, 'bridge b2 stops with its last user here');
SELECT is(pg_temp.signals('occupancy'), '25', 'occupancy after the bridge stopped');
SELECT pg_temp.join('b3', 'e' || g, 'u' || lpad(g::text, 3, '0'), 'big') FROM generate_series(26, 30) g;
SELECT pg_temp.join('b3', 'e1', 'u001', 'big');   -- u001 is online through b1 too
SELECT is(rt.online_count('big'), 30, 'thirty online through b1 and b3');
UPDATE rt.bridges SET last_seen = now() - interval '1 minute' WHERE id = 'b3';
SELECT rt.bridge_heartbeat('b1');
DELETE FROM tests.sent;
SELECT is(rt.reap_bridges('30 seconds'), 1, 'b3 is reaped');
SELECT is(pg_temp.signals('occupancy'), '25', 'one occupancy signal for the five users that went');
SELECT is(pg_temp.signals('presence'), '', 'and no presence signal');
SELECT is(rt.online_count('big'), 25, 'u001 stays online through b1');
SELECT ok(pg_temp.counters_ok(), 'counters match rt.presence after disconnect, stop and reaping');

-- Orphans (presence whose bridge row is gone) are counted out too.
DELETE FROM rt.bridges WHERE id = 'b1';
DELETE FROM tests.sent;
SELECT is(rt.reap_bridges('30 seconds'), 0, 'no stale bridge');
SELECT is(rt.online_count('big'), 0, 'the orphaned presence went');
SELECT is(pg_temp.signals('occupancy'), '0', 'falling below the threshold: one last occupancy signal');
SELECT is(pg_temp.signals('presence'), '', 'not a presence left per user');
SELECT ok(pg_temp.counters_ok(), 'counters match rt.presence after orphans were reaped');

-- Back in list mode.
DELETE FROM tests.sent;
SELECT is(pg_temp.join('b1', 'c2', 'u002', 'big') -> 'presence', '["u002"]', 'list mode again: the full list');
SELECT is(pg_temp.signals('presence'), 'u002:joined', 'and presence signals');
SELECT is(rt.dispatch('b1', 'c2', 'u002', '{"type":"leave","room":"big"}'), '{}', 'leave in list mode');
SELECT is(pg_temp.signals('presence'), 'u002:joined u002:left', 'presence left');
SELECT is(rt.online_count('big'), 0, 'nobody online');

-- remove_member ends presence and counts the user out.
SELECT pg_temp.join('b1', 'c' || g, 'u' || lpad(g::text, 3, '0'), 'big') FROM generate_series(1, 8) g;
DELETE FROM tests.sent;
SELECT lives_ok($$SELECT rt.remove_member('big', 'u008', 'ann')$$, 'remove a member who is online');
SELECT is(pg_temp.signals('occupancy'), '7', 'one occupancy signal');
SELECT is(rt.online_count('big'), 7, 'the removed member is counted out');

-- The roster.
SELECT is(rt.roster('big', 'vic'), '{"room":"big","occupancy":7,"users":["u001","u002","u003","u004","u005","u006","u007"],"next":null}',
          'a viewer reads the whole roster in one page');
SELECT is(rt.roster('big', 'vic', max => 3), '{"room":"big","occupancy":7,"users":["u001","u002","u003"],"next":"u003"}',
          'a first page of 3');
SELECT is(rt.roster('big', 'vic', 'u003', 3), '{"room":"big","occupancy":7,"users":["u004","u005","u006"],"next":"u006"}',
          'the next page');
SELECT is(rt.roster('big', 'vic', 'u006', 3), '{"room":"big","occupancy":7,"users":["u007"],"next":null}', 'the last page');
SELECT is(rt.roster('big', NULL, 'u004', 3) -> 'users', '["u005", "u006", "u007"]', 'a trusted call');
SELECT is(rt.roster('big', 'vic', 'u007', 1), '{"room":"big","occupancy":7,"users":[],"next":null}', 'after the last user: empty');
SELECT is(rt.roster('small', 'bob'), '{"room":"small","occupancy":0,"users":[],"next":null}', 'a room nobody joined');
SELECT * FROM tests.rejects($$SELECT rt.roster('big', 'eve')$$, 'FORBIDDEN', 'roster for a non-member');
SELECT * FROM tests.rejects($$SELECT rt.roster('nope', 'eve')$$, 'FORBIDDEN', 'roster of a missing room, for a user');
SELECT * FROM tests.rejects($$SELECT rt.roster('nope')$$, 'NOT_FOUND', 'roster of a missing room, trusted');
SELECT * FROM tests.rejects($$SELECT rt.roster('big', 'vic', max => 0)$$, 'BAD_REQUEST', 'max 0');
SELECT * FROM tests.rejects($$SELECT rt.roster('big', 'vic', max => 1001)$$, 'BAD_REQUEST', 'max 1001');
SELECT * FROM tests.rejects($$SELECT rt.roster('big', 'vic', max => NULL)$$, 'BAD_REQUEST', 'max NULL');
SELECT * FROM tests.rejects($$SELECT rt.roster('big', 'vic', '')$$, 'BAD_REQUEST', 'an empty after');
SELECT * FROM tests.rejects($$SELECT rt.roster('b/g', 'vic')$$, 'BAD_REQUEST', 'a bad room id');
SELECT * FROM tests.rejects($$SELECT rt.occupancy('big', 'eve')$$, 'FORBIDDEN', 'occupancy for a non-member');
SELECT * FROM tests.rejects($$SELECT rt.occupancy('nope')$$, 'NOT_FOUND', 'occupancy of a missing room, trusted');
SELECT * FROM tests.rejects($$SELECT rt.occupancy('big', repeat('x', 129))$$, 'BAD_REQUEST', 'occupancy with a bad actor');

-- The roster frame through rt.dispatch.
SELECT is(rt.dispatch('b1', 'c9', 'vic', '{"type":"roster","room":"big","ref":"r1","limit":2,"after":"u001"}'),
          '{"room":"big","occupancy":7,"users":["u002","u003"],"next":"u003"}', 'roster frame');
SELECT is(rt.dispatch('b1', 'c9', 'vic', '{"type":"roster","room":"big"}') -> 'next', 'null', 'roster frame defaults: 100 users');
SELECT * FROM tests.rejects($$SELECT rt.dispatch('b1', 'c9', 'vic', '{"type":"roster","room":"big","limit":0}')$$, 'BAD_REQUEST', 'roster limit 0');
SELECT * FROM tests.rejects($$SELECT rt.dispatch('b1', 'c9', 'vic', '{"type":"roster","room":"big","limit":1001}')$$, 'BAD_REQUEST', 'roster limit 1001');
SELECT * FROM tests.rejects($$SELECT rt.dispatch('b1', 'c9', 'vic', '{"type":"roster","room":"big","limit":"5"}')$$, 'BAD_REQUEST', 'roster limit a string');
SELECT * FROM tests.rejects($$SELECT rt.dispatch('b1', 'c9', 'vic', '{"type":"roster","room":"big","after":5}')$$, 'BAD_REQUEST', 'roster after a number');
SELECT * FROM tests.rejects($$SELECT rt.dispatch('b1', 'c9', 'eve', '{"type":"roster","room":"big"}')$$, 'FORBIDDEN', 'roster frame by a non-member');
SELECT * FROM tests.rejects($$SELECT rt.dispatch('b1', 'c9', 'vic', '{"type":"roster"}')$$, 'BAD_REQUEST', 'roster frame without a room');

-- Deleting a room takes its counter with it.
DELETE FROM rt.rooms WHERE id = 'big';
SELECT is((SELECT count(*)::int FROM rt.room_presence WHERE room = 'big'), 0, 'the counter row goes with its room');
SELECT ok(pg_temp.counters_ok(), 'counters match rt.presence at the end');

SELECT * FROM finish();
ROLLBACK;
