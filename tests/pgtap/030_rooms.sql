-- create_room, update_room, end_room.
BEGIN;
\ir helpers.psql
SELECT plan(58);

-- create_room
SELECT is(rt.create_room('chat', 'ann', 'Lobby', 'lobby', '{"topic":"x"}'), 'lobby', 'create_room returns the id');
SELECT results_eq($$SELECT kind, title, owner, state, version, last_seq, meta, ended_at FROM rt.rooms WHERE id = 'lobby'$$,
                  $$VALUES ('chat', 'Lobby', 'ann', NULL::text, 0, 1::bigint, '{"topic":"x"}'::jsonb, NULL::timestamptz)$$,
                  'the room row');
SELECT is(rt.member_role('lobby', 'ann'), 'owner', 'the owner is a member with role owner');
SELECT is((SELECT event || ' ' || data::text FROM rt.events WHERE room = 'lobby' AND seq = 1),
          'room_created {"kind": "chat", "owner": "ann", "state": null, "title": "Lobby"}', 'room_created is seq 1');
SELECT is(tests.last_sent() ->> 'event', 'room_created', 'room_created was notified');
SELECT matches(rt.create_room('chat', 'ann'), '^[0-9a-f]{16}$', 'a NULL id generates 16 hex digits');
SELECT isnt(rt.create_room('chat', 'ann'), rt.create_room('chat', 'ann'), 'generated ids differ');
SELECT is(rt.create_room('conversation', 'ann', id => 'conv'), 'conv', 'a conversation room');
SELECT results_eq($$SELECT state, version FROM rt.rooms WHERE id = 'conv'$$, $$VALUES ('IDLE', 0)$$,
                  'a conversation starts in IDLE at version 0');
SELECT * FROM tests.rejects($$SELECT rt.create_room('chat', 'bob', NULL, 'lobby')$$, 'CONFLICT', 'an existing id');
SELECT * FROM tests.rejects($$SELECT rt.create_room('party', 'bob')$$, 'BAD_REQUEST', 'an unknown kind');
SELECT * FROM tests.rejects($$SELECT rt.create_room(NULL, 'bob')$$, 'BAD_REQUEST', 'no kind');
SELECT * FROM tests.rejects($$SELECT rt.create_room('chat', NULL)$$, 'BAD_REQUEST', 'no owner');
SELECT * FROM tests.rejects($$SELECT rt.create_room('chat', repeat('u', 129))$$, 'BAD_REQUEST', 'owner of 129 characters');
SELECT * FROM tests.rejects($$SELECT rt.create_room('chat', E'bo\nb')$$, 'BAD_REQUEST', 'owner with a control character');
SELECT * FROM tests.rejects($$SELECT rt.create_room('chat', 'bob', NULL, 'has space')$$, 'BAD_REQUEST', 'an invalid id');
SELECT * FROM tests.rejects($$SELECT rt.create_room('chat', 'bob', NULL, repeat('a', 65))$$, 'BAD_REQUEST', 'an id of 65 characters');
SELECT * FROM tests.rejects($$SELECT rt.create_room('chat', 'bob', repeat('t', 201))$$, 'BAD_REQUEST', 'a title of 201 characters');
SELECT * FROM tests.rejects($$SELECT rt.create_room('chat', 'bob', NULL, NULL, '[]')$$, 'BAD_REQUEST', 'meta not an object');
SELECT * FROM tests.rejects($$SELECT rt.create_room('chat', 'bob', NULL, NULL, jsonb_build_object('x', repeat('m', 16400)))$$,
                            'TOO_LARGE', 'meta over max_meta_bytes');

-- update_room
SELECT rt.add_member('lobby', 'bob');
SELECT is(rt.update_room('lobby', 'ann', 'Hall') -> 'data', '{"title":"Hall"}', 'update_room: title only');
SELECT is(rt.update_room('lobby', 'ann', meta => '{"persona":"calm"}') -> 'data', '{"meta":{"persona":"calm"}}',
          'update_room: meta only');
SELECT results_eq($$SELECT title, meta FROM rt.rooms WHERE id = 'lobby'$$, $$VALUES ('Hall', '{"persona":"calm"}'::jsonb)$$,
                  'the room has the new title and meta');
SELECT is(tests.last_sent() ->> 'event', 'room_updated', 'room_updated was notified');
SELECT * FROM tests.rejects($$SELECT rt.update_room('lobby', 'bob', 'Mine')$$, 'FORBIDDEN', 'update_room by a member');
SELECT * FROM tests.rejects($$SELECT rt.update_room('nowhere', 'ann', 'X')$$, 'FORBIDDEN', 'update_room of a missing room');
SELECT * FROM tests.rejects($$SELECT rt.update_room('lobby', 'ann')$$, 'BAD_REQUEST', 'update_room with nothing to change');
SELECT * FROM tests.rejects($$SELECT rt.update_room('lobby', 'ann', meta => '"x"')$$, 'BAD_REQUEST', 'update_room meta not an object');
SELECT * FROM tests.rejects($$SELECT rt.update_room('lobby', 'ann', meta => jsonb_build_object('x', repeat('m', 16400)))$$,
                            'TOO_LARGE', 'update_room meta over max_meta_bytes');
SELECT * FROM tests.rejects($$SELECT rt.update_room('lobby', 'ann', repeat('t', 201))$$, 'BAD_REQUEST', 'update_room title too long');

-- end_room
SELECT rt.add_member('conv', 'bot', 'service');
SELECT rt.add_member('conv', 'bob');
SELECT * FROM tests.rejects($$SELECT rt.end_room('conv', 'bob')$$, 'FORBIDDEN', 'end_room by a member');
SELECT * FROM tests.rejects($$SELECT rt.end_room('nowhere', 'bot')$$, 'FORBIDDEN', 'end_room of a missing room');
SELECT is(rt.end_room('conv', 'bot') - 'at',
          '{"type":"event","room":"conv","seq":4,"event":"room_ended","actor":"bot","data":{"from":"IDLE","to":"ENDED","version":1}}',
          'end_room by a service: room_ended carries the final state move');
SELECT results_eq($$SELECT state, version, ended_at IS NOT NULL FROM rt.rooms WHERE id = 'conv'$$,
                  $$VALUES ('ENDED', 1, true)$$, 'the conversation is ENDED at version 1');
SELECT * FROM tests.rejects($$SELECT rt.end_room('conv', 'bot')$$, 'CONFLICT', 'ending an ended room');
SELECT * FROM tests.rejects($$SELECT rt.update_room('conv', 'ann', 'late')$$, 'CONFLICT', 'update_room after the end');
SELECT is(rt.end_room('lobby', 'ann') -> 'data', '{}', 'end_room of a chat room by its owner: empty data');

SELECT * FROM finish();
ROLLBACK;
