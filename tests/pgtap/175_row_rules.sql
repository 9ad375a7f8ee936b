-- The row rules of rt.rooms, rt.events and rt.messages still refuse every bad row written by hand,
-- with check_violation (rt.rooms: one CHECK calling rt.room_row_valid since migration
-- 0014_room_row_rule.sql), and deleting a room still deletes its events and messages (migration
-- 0013_events_room_key.sql: no foreign key from rt.events, a statement-level trigger instead).
BEGIN;
\ir helpers.psql
SELECT plan(27);

SELECT rt.create_room('chat', 'ann', 'Chat', 'r');
SELECT rt.add_member('r', 'bob');
SELECT rt.post_message('r', 'bob', 'hello', media_url => 'https://example.org/a.png', meta => '{"k":1}',
                       client_msg_id => 'm-1');                                        -- seq 3

-- ---- rt.rooms ----------------------------------------------------------------------------------
SELECT throws_ok($$INSERT INTO rt.rooms (id, kind, owner) VALUES ('bad id!', 'chat', 'ann')$$, '23514', NULL, 'rooms: a bad id');
SELECT throws_ok($$INSERT INTO rt.rooms (id, kind, owner) VALUES (repeat('a', 65), 'chat', 'ann')$$, '23514', NULL, 'rooms: an id of 65 characters');
SELECT throws_ok($$UPDATE rt.rooms SET title = '' WHERE id = 'r'$$, '23514', NULL, 'rooms: an empty title');
SELECT throws_ok($$UPDATE rt.rooms SET title = repeat('t', 201) WHERE id = 'r'$$, '23514', NULL, 'rooms: a title of 201 characters');
SELECT throws_ok($$UPDATE rt.rooms SET title = E'a\nb' WHERE id = 'r'$$, '23514', NULL, 'rooms: a control character in the title');
SELECT throws_ok($$UPDATE rt.rooms SET owner = '' WHERE id = 'r'$$, '23514', NULL, 'rooms: an empty owner');
SELECT throws_ok($$UPDATE rt.rooms SET owner = E'a\tb' WHERE id = 'r'$$, '23514', NULL, 'rooms: a control character in the owner');
SELECT throws_ok($$UPDATE rt.rooms SET version = -1 WHERE id = 'r'$$, '23514', NULL, 'rooms: a negative version');
SELECT throws_ok($$UPDATE rt.rooms SET last_seq = -1 WHERE id = 'r'$$, '23514', NULL, 'rooms: a negative last_seq');
SELECT throws_ok($$UPDATE rt.rooms SET meta = '[]' WHERE id = 'r'$$, '23514', NULL, 'rooms: meta not an object');
SELECT lives_ok($$UPDATE rt.rooms SET title = NULL, meta = '{"a":1}' WHERE id = 'r'$$, 'rooms: no title and an object meta are fine');

-- ---- rt.events ---------------------------------------------------------------------------------
SELECT throws_ok($$INSERT INTO rt.events (room, seq, event, data, at) VALUES ('r', 0, 'x', '{}', now())$$, '23514', NULL, 'events: seq 0');
SELECT throws_ok($$INSERT INTO rt.events (room, seq, event, data, at) VALUES ('r', 99, 'Bad', '{}', now())$$, '23514', NULL, 'events: a bad event name');
SELECT throws_ok($$INSERT INTO rt.events (room, seq, event, data, at) VALUES ('r', 99, 'x', '[1]', now())$$, '23514', NULL, 'events: data not an object');
SELECT lives_ok($$INSERT INTO rt.events (room, seq, event, actor, data, at) VALUES ('r', 99, 'x_1', NULL, '{}', now())$$, 'events: a good row');

-- ---- rt.messages -------------------------------------------------------------------------------
SELECT throws_ok($$UPDATE rt.messages SET meta = '"x"' WHERE room = 'r' AND seq = 3$$, '23514', NULL, 'messages: meta not an object');
SELECT throws_ok($$UPDATE rt.messages SET client_msg_id = '' WHERE room = 'r' AND seq = 3$$, '23514', NULL, 'messages: an empty client_msg_id');
SELECT throws_ok($$UPDATE rt.messages SET client_msg_id = repeat('c', 129) WHERE room = 'r' AND seq = 3$$, '23514', NULL, 'messages: a client_msg_id of 129 characters');
SELECT throws_ok($$UPDATE rt.messages SET body = NULL WHERE room = 'r' AND seq = 3$$, '23514', NULL, 'messages: no body without deleted_at');
SELECT throws_ok($$UPDATE rt.messages SET deleted_at = now() WHERE room = 'r' AND seq = 3$$, '23514', NULL, 'messages: deleted but still a body');
SELECT throws_ok($$UPDATE rt.messages SET body = NULL, deleted_at = now() WHERE room = 'r' AND seq = 3$$, '23514', NULL,
                 'messages: deleted but still a media_url and meta');
SELECT lives_ok($$SELECT rt.delete_message('r', 'bob', 3)$$, 'messages: delete_message leaves a valid row');
SELECT is((SELECT (body, media_url, meta)::text FROM rt.messages WHERE room = 'r' AND seq = 3), '(,,{})', 'and it is empty');

-- ---- deleting a room ----------------------------------------------------------------------------
SELECT rt.create_room('chat', 'ann', NULL, 'gone');
SELECT rt.post_message('gone', 'ann', 'soon gone');
SELECT is((SELECT count(*)::int FROM rt.events WHERE room = 'gone'), 2, 'the room has its events');
DELETE FROM rt.rooms WHERE id IN ('gone', 'nothing');
SELECT is((SELECT count(*)::int FROM rt.events WHERE room = 'gone'), 0, 'deleting the room deleted its events');
SELECT is((SELECT count(*)::int FROM rt.messages WHERE room = 'gone'), 0, 'and its messages');
SELECT is((SELECT count(*)::int FROM rt.events WHERE room = 'r'), 5, 'and nothing of the other rooms');

SELECT * FROM finish();
ROLLBACK;
