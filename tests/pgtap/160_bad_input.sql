-- Bad input, table-driven: every function of docs/sql-api.md ("Functions") (and the added update_room, prefs), called with
-- NULLs, empty and huge strings, invalid room ids, unknown kinds/roles/events/states, SQL and regex
-- metacharacters, control and odd unicode characters, wrong JSON shapes, wrong roles and ended rooms.
-- Each row must fail with its documented error code AND change nothing: tests.rejects compares a
-- fingerprint of every rt table and of what was notified before and after the call (helpers.psql).
-- Adding a case is one line in the VALUES list below. (NUL cannot reach a function: PostgreSQL text
-- and jsonb refuse it when the caller's literal is parsed, before any rt code runs.)
BEGIN;
\ir helpers.psql

-- Fixture. r: chat (ann owner, bob member, vic viewer, bot service); c: conversation, same members;
-- x: zed's room, foreign to everyone else; e and ce: ended rooms (chat, conversation).
SELECT rt.create_room('chat', 'ann', 'Chat', 'r');
SELECT rt.add_member('r', 'bob'), rt.add_member('r', 'vic', 'viewer'), rt.add_member('r', 'bot', 'service');
SELECT rt.post_message('r', 'bob', 'bob''s message', client_msg_id => 'b-1');          -- seq 5
SELECT rt.post_message('r', 'ann', 'ann''s message');                                -- seq 6
SELECT rt.publish('r', 'bot', 'status', '{"ok":true}');                             -- seq 7: not a message
SELECT rt.post_message('r', 'bob', 'soon gone');                                    -- seq 8
SELECT rt.delete_message('r', 'bob', 8);                                            -- seq 9
SELECT rt.create_room('conversation', 'ann', NULL, 'c');
SELECT rt.add_member('c', 'bob'), rt.add_member('c', 'vic', 'viewer'), rt.add_member('c', 'bot', 'service');
SELECT rt.create_room('chat', 'zed', NULL, 'x');
SELECT rt.post_message('x', 'zed', 'private', client_msg_id => 'z-1');
SELECT rt.create_room('chat', 'ann', NULL, 'e');
SELECT rt.add_member('e', 'bob');
SELECT rt.post_message('e', 'bob', 'before the end');                               -- e seq 3
SELECT rt.end_room('e', 'ann');
SELECT rt.create_room('conversation', 'ann', NULL, 'ce');
SELECT rt.end_room('ce', 'ann');

CREATE TEMP TABLE bad (n serial, call text NOT NULL, code text NOT NULL, what text NOT NULL);
-- Values used below: a document nested 70 levels deep (the limit is 64), one of 70000 bytes, and a
-- signal/system payload just under the NOTIFY limit once wrapped in its frame.
CREATE TEMP TABLE doc AS SELECT
    ('{"a":' || repeat('[', 70) || '1' || repeat(']', 70) || '}')::jsonb AS deep,
    jsonb_build_object('x', repeat('x', 70000)) AS huge,
    jsonb_build_object('x', repeat('x', 7980)) AS near_notify_limit;
GRANT SELECT ON doc TO PUBLIC;

INSERT INTO bad (call, code, what) VALUES
-- create_room
($$SELECT rt.create_room(NULL, 'ann')$$,                                        'BAD_REQUEST', 'create_room: NULL kind'),
($$SELECT rt.create_room('', 'ann')$$,                                          'BAD_REQUEST', 'create_room: empty kind'),
($$SELECT rt.create_room('party', 'ann')$$,                                     'BAD_REQUEST', 'create_room: unknown kind'),
($$SELECT rt.create_room('CHAT', 'ann')$$,                                      'BAD_REQUEST', 'create_room: kind in the wrong case'),
($$SELECT rt.create_room('chat'' OR ''1''=''1', 'ann')$$,                       'BAD_REQUEST', 'create_room: quotes in kind'),
($$SELECT rt.create_room('chat;DROP TABLE rt.events;--', 'ann')$$,              'BAD_REQUEST', 'create_room: ; and -- in kind'),
($$SELECT rt.create_room('chat', NULL)$$,                                       'BAD_REQUEST', 'create_room: NULL owner'),
($$SELECT rt.create_room('chat', '')$$,                                         'BAD_REQUEST', 'create_room: empty owner'),
($$SELECT rt.create_room('chat', repeat('u', 129))$$,                           'BAD_REQUEST', 'create_room: owner of 129 characters'),
($$SELECT rt.create_room('chat', E'ann\nroot')$$,                               'BAD_REQUEST', 'create_room: newline in owner'),
($$SELECT rt.create_room('chat', E'ann\x01')$$,                                 'BAD_REQUEST', 'create_room: control character in owner'),
($$SELECT rt.create_room('chat', 'ann', '')$$,                                  'BAD_REQUEST', 'create_room: empty title'),
($$SELECT rt.create_room('chat', 'ann', repeat('t', 201))$$,                    'BAD_REQUEST', 'create_room: title of 201 characters'),
($$SELECT rt.create_room('chat', 'ann', E'a\tb')$$,                             'BAD_REQUEST', 'create_room: tab in title'),
($$SELECT rt.create_room('chat', 'ann', NULL, '')$$,                            'BAD_REQUEST', 'create_room: empty id'),
($$SELECT rt.create_room('chat', 'ann', NULL, repeat('a', 65))$$,               'BAD_REQUEST', 'create_room: id of 65 characters'),
($$SELECT rt.create_room('chat', 'ann', NULL, 'a b')$$,                         'BAD_REQUEST', 'create_room: space in id'),
($$SELECT rt.create_room('chat', 'ann', NULL, 'r'';DROP TABLE rt.rooms;--')$$,  'BAD_REQUEST', 'create_room: SQL injection in id'),
($$SELECT rt.create_room('chat', 'ann', NULL, 'r%')$$,                          'BAD_REQUEST', 'create_room: % in id'),
($$SELECT rt.create_room('chat', 'ann', NULL, E'r\\')$$,                        'BAD_REQUEST', 'create_room: backslash in id'),
($$SELECT rt.create_room('chat', 'ann', NULL, 'r\0')$$,                         'BAD_REQUEST', 'create_room: a literal \0 in id'),
($$SELECT rt.create_room('chat', 'ann', NULL, 'räum')$$,                        'BAD_REQUEST', 'create_room: non-ASCII letter in id'),
($$SELECT rt.create_room('chat', 'ann', NULL, 'r' || chr(8203))$$,              'BAD_REQUEST', 'create_room: zero-width space in id'),
($$SELECT rt.create_room('chat', 'ann', NULL, 'r' || chr(65313))$$,             'BAD_REQUEST', 'create_room: fullwidth letter in id'),
($$SELECT rt.create_room('chat', 'ann', NULL, E'r\n')$$,                        'BAD_REQUEST', 'create_room: trailing newline in id'),
($$SELECT rt.create_room('chat', 'ann', NULL, 'r')$$,                           'CONFLICT',    'create_room: an existing id'),
($$SELECT rt.create_room('chat', 'zed', NULL, 'x')$$,                           'CONFLICT',    'create_room: an existing id, its own owner'),
($$SELECT rt.create_room('chat', 'ann', NULL, NULL, NULL)$$,                    'BAD_REQUEST', 'create_room: NULL meta'),
($$SELECT rt.create_room('chat', 'ann', NULL, NULL, '[]')$$,                    'BAD_REQUEST', 'create_room: array meta'),
($$SELECT rt.create_room('chat', 'ann', NULL, NULL, '"text"')$$,                'BAD_REQUEST', 'create_room: string meta'),
($$SELECT rt.create_room('chat', 'ann', NULL, NULL, 'null')$$,                  'BAD_REQUEST', 'create_room: JSON null meta'),
($$SELECT rt.create_room('chat', 'ann', NULL, NULL, '42')$$,                    'BAD_REQUEST', 'create_room: number meta'),
($$SELECT rt.create_room('chat', 'ann', NULL, NULL, (SELECT deep FROM doc))$$,  'BAD_REQUEST', 'create_room: meta nested 70 deep'),
($$SELECT rt.create_room('chat', 'ann', NULL, NULL, (SELECT huge FROM doc))$$,  'TOO_LARGE',   'create_room: meta of 70000 bytes'),
-- update_room (added)
($$SELECT rt.update_room('r', 'ann')$$,                                         'BAD_REQUEST', 'update_room: nothing to update'),
($$SELECT rt.update_room('r', 'bob', 'mine')$$,                                 'FORBIDDEN',   'update_room: a member'),
($$SELECT rt.update_room('r', 'bot', 'mine')$$,                                 'FORBIDDEN',   'update_room: a service'),
($$SELECT rt.update_room('x', 'ann', 'mine')$$,                                 'FORBIDDEN',   'update_room: a foreign room'),
($$SELECT rt.update_room('e', 'ann', 'again')$$,                                'CONFLICT',    'update_room: an ended room'),
($$SELECT rt.update_room('r', 'ann', NULL, '[1]')$$,                            'BAD_REQUEST', 'update_room: array meta'),
($$SELECT rt.update_room('r', 'ann', NULL, (SELECT deep FROM doc))$$,           'BAD_REQUEST', 'update_room: meta nested 70 deep'),
($$SELECT rt.update_room('r', 'ann', repeat('t', 201))$$,                       'BAD_REQUEST', 'update_room: title of 201 characters'),
-- add_member
($$SELECT rt.add_member(NULL, 'u')$$,                                           'BAD_REQUEST', 'add_member: NULL room'),
($$SELECT rt.add_member('bad id!', 'u')$$,                                      'BAD_REQUEST', 'add_member: invalid room id'),
($$SELECT rt.add_member('nope', 'u')$$,                                         'NOT_FOUND',   'add_member: a missing room (trusted call)'),
($$SELECT rt.add_member('r', NULL)$$,                                           'BAD_REQUEST', 'add_member: NULL user'),
($$SELECT rt.add_member('r', '')$$,                                             'BAD_REQUEST', 'add_member: empty user'),
($$SELECT rt.add_member('r', repeat('u', 10000))$$,                             'BAD_REQUEST', 'add_member: user of 10000 characters'),
($$SELECT rt.add_member('r', 'u', NULL)$$,                                      'BAD_REQUEST', 'add_member: NULL role'),
($$SELECT rt.add_member('r', 'u', 'admin')$$,                                   'BAD_REQUEST', 'add_member: unknown role'),
($$SELECT rt.add_member('r', 'u', 'Member')$$,                                  'BAD_REQUEST', 'add_member: role in the wrong case'),
($$SELECT rt.add_member('r', 'u', 'member''--')$$,                              'BAD_REQUEST', 'add_member: quote and -- in role'),
($$SELECT rt.add_member('r', 'u', 'owner')$$,                                   'BAD_REQUEST', 'add_member: a second owner'),
($$SELECT rt.add_member('r', 'ann', 'viewer')$$,                                'CONFLICT',    'add_member: demoting the owner'),
($$SELECT rt.add_member('r', 'u', 'member', 'bob')$$,                           'FORBIDDEN',   'add_member: a member adds'),
($$SELECT rt.add_member('r', 'u', 'member', 'vic')$$,                           'FORBIDDEN',   'add_member: a viewer adds'),
($$SELECT rt.add_member('r', 'u', 'member', 'bot')$$,                           'FORBIDDEN',   'add_member: a service adds'),
($$SELECT rt.add_member('r', 'vic', 'member', 'vic')$$,                         'FORBIDDEN',   'add_member: a viewer promotes itself'),
($$SELECT rt.add_member('r', 'u', 'member', 'eve')$$,                           'FORBIDDEN',   'add_member: a non-member adds'),
($$SELECT rt.add_member('x', 'ann', 'member', 'ann')$$,                         'FORBIDDEN',   'add_member: into a foreign room'),
($$SELECT rt.add_member('nope', 'u', 'member', 'ann')$$,                        'FORBIDDEN',   'add_member: a missing room (with actor)'),
($$SELECT rt.add_member('r', 'u', 'member', '')$$,                              'BAD_REQUEST', 'add_member: empty actor'),
($$SELECT rt.add_member('e', 'u')$$,                                            'CONFLICT',    'add_member: an ended room'),
-- remove_member
($$SELECT rt.remove_member(NULL, 'bob')$$,                                      'BAD_REQUEST', 'remove_member: NULL room'),
($$SELECT rt.remove_member('r', NULL)$$,                                        'BAD_REQUEST', 'remove_member: NULL user'),
($$SELECT rt.remove_member('r%', 'bob')$$,                                      'BAD_REQUEST', 'remove_member: % in room id'),
($$SELECT rt.remove_member('nope', 'bob')$$,                                    'NOT_FOUND',   'remove_member: a missing room (trusted call)'),
($$SELECT rt.remove_member('r', 'nobody')$$,                                    'NOT_FOUND',   'remove_member: not a member'),
($$SELECT rt.remove_member('r', 'ann')$$,                                       'CONFLICT',    'remove_member: the owner'),
($$SELECT rt.remove_member('r', 'vic', 'bob')$$,                                'FORBIDDEN',   'remove_member: a member removes another'),
($$SELECT rt.remove_member('r', 'bob', 'vic')$$,                                'FORBIDDEN',   'remove_member: a viewer removes another'),
($$SELECT rt.remove_member('r', 'bob', 'bot')$$,                                'FORBIDDEN',   'remove_member: a service removes another'),
($$SELECT rt.remove_member('r', 'ann', 'bob')$$,                                'FORBIDDEN',   'remove_member: a member removes the owner'),
($$SELECT rt.remove_member('r', 'bob', 'eve')$$,                                'FORBIDDEN',   'remove_member: a non-member removes'),
($$SELECT rt.remove_member('x', 'zed', 'ann')$$,                                'FORBIDDEN',   'remove_member: in a foreign room'),
($$SELECT rt.remove_member('nope', 'bob', 'ann')$$,                             'FORBIDDEN',   'remove_member: a missing room (with actor)'),
($$SELECT rt.remove_member('e', 'bob')$$,                                       'CONFLICT',    'remove_member: an ended room'),
-- post_message
($$SELECT rt.post_message(NULL, 'bob', 'x')$$,                                  'BAD_REQUEST', 'post_message: NULL room'),
($$SELECT rt.post_message('', 'bob', 'x')$$,                                    'BAD_REQUEST', 'post_message: empty room'),
($$SELECT rt.post_message('r'' OR 1=1 --', 'bob', 'x')$$,                       'BAD_REQUEST', 'post_message: SQL injection in room'),
($$SELECT rt.post_message('r;', 'bob', 'x')$$,                                  'BAD_REQUEST', 'post_message: ; in room'),
($$SELECT rt.post_message('r_', 'bob', 'x')$$,                                  'FORBIDDEN',   'post_message: r_ is not r (no LIKE matching)'),
($$SELECT rt.post_message('R', 'bob', 'x')$$,                                   'FORBIDDEN',   'post_message: R is not r (case matters)'),
($$SELECT rt.post_message('r', NULL, 'x')$$,                                    'BAD_REQUEST', 'post_message: NULL author'),
($$SELECT rt.post_message('r', E'bob\r', 'x')$$,                                'BAD_REQUEST', 'post_message: carriage return in author'),
($$SELECT rt.post_message('r', 'bob', NULL)$$,                                  'BAD_REQUEST', 'post_message: NULL body'),
($$SELECT rt.post_message('r', 'bob', '')$$,                                    'BAD_REQUEST', 'post_message: empty body'),
($$SELECT rt.post_message('r', 'bob', repeat('x', 65537))$$,                    'TOO_LARGE',   'post_message: body over max_event_bytes'),
($$SELECT rt.post_message('r', 'bob', repeat('é', 40000))$$,                    'TOO_LARGE',   'post_message: 40000 characters, 80000 bytes'),
($$SELECT rt.post_message('r', 'bob', 'x', 'javascript:alert(1)')$$,            'BAD_REQUEST', 'post_message: javascript: media_url'),
($$SELECT rt.post_message('r', 'bob', 'x', 'http://')$$,                        'BAD_REQUEST', 'post_message: media_url without host'),
($$SELECT rt.post_message('r', 'bob', 'x', 'https://a b/c')$$,                  'BAD_REQUEST', 'post_message: space in media_url'),
($$SELECT rt.post_message('r', 'bob', 'x', E'https://a/\n')$$,                  'BAD_REQUEST', 'post_message: newline in media_url'),
($$SELECT rt.post_message('r', 'bob', 'x', '')$$,                               'BAD_REQUEST', 'post_message: empty media_url'),
($$SELECT rt.post_message('r', 'bob', 'x', NULL, NULL)$$,                       'BAD_REQUEST', 'post_message: NULL meta'),
($$SELECT rt.post_message('r', 'bob', 'x', NULL, '[]')$$,                       'BAD_REQUEST', 'post_message: array meta'),
($$SELECT rt.post_message('r', 'bob', 'x', NULL, 'true')$$,                     'BAD_REQUEST', 'post_message: boolean meta'),
($$SELECT rt.post_message('r', 'bob', 'x', NULL, (SELECT deep FROM doc))$$,     'BAD_REQUEST', 'post_message: meta nested 70 deep'),
($$SELECT rt.post_message('r', 'bob', 'x', NULL, (SELECT huge FROM doc))$$,     'TOO_LARGE',   'post_message: meta of 70000 bytes'),
($$SELECT rt.post_message('r', 'bob', 'x', NULL, '{}', '')$$,                   'BAD_REQUEST', 'post_message: empty client_msg_id'),
($$SELECT rt.post_message('r', 'bob', 'x', NULL, '{}', repeat('k', 129))$$,     'BAD_REQUEST', 'post_message: client_msg_id of 129 characters'),
($$SELECT rt.post_message('r', 'bob', 'x', NULL, '{}', E'k\x7f')$$,             'BAD_REQUEST', 'post_message: DEL in client_msg_id'),
($$SELECT rt.post_message('r', 'vic', 'x')$$,                                   'FORBIDDEN',   'post_message: a viewer sends'),
($$SELECT rt.post_message('r', 'eve', 'x')$$,                                   'FORBIDDEN',   'post_message: a non-member sends'),
($$SELECT rt.post_message('r', 'vic', 'x', client_msg_id => 'b-1')$$,           'FORBIDDEN',   'post_message: a viewer replays another''s client_msg_id'),
($$SELECT rt.post_message('x', 'bob', 'x')$$,                                   'FORBIDDEN',   'post_message: a foreign room'),
($$SELECT rt.post_message('nope', 'bob', 'x')$$,                                'FORBIDDEN',   'post_message: a missing room'),
($$SELECT rt.post_message('x', 'ann', 'x', client_msg_id => 'z-1')$$,           'FORBIDDEN',   'post_message: an outsider replays a foreign room''s client_msg_id'),
($$SELECT rt.post_message('e', 'eve', 'x', client_msg_id => 'b-1')$$,           'FORBIDDEN',   'post_message: an outsider retries into an ended room'),
($$SELECT rt.post_message('e', 'bob', 'x')$$,                                   'CONFLICT',    'post_message: an ended room'),
($$SELECT rt.post_message('e', 'bob', 'x', client_msg_id => 'new')$$,           'CONFLICT',    'post_message: an ended room, new client_msg_id'),
-- edit_message
($$SELECT rt.edit_message(NULL, 'bob', 5, 'x')$$,                               'BAD_REQUEST', 'edit_message: NULL room'),
($$SELECT rt.edit_message('r', NULL, 5, 'x')$$,                                 'BAD_REQUEST', 'edit_message: NULL actor'),
($$SELECT rt.edit_message('r', 'bob', NULL, 'x')$$,                             'BAD_REQUEST', 'edit_message: NULL seq'),
($$SELECT rt.edit_message('r', 'bob', -1, 'x')$$,                               'BAD_REQUEST', 'edit_message: negative seq'),
($$SELECT rt.edit_message('r', 'bob', 0, 'x')$$,                                'BAD_REQUEST', 'edit_message: seq 0'),
($$SELECT rt.edit_message('r', 'bob', 999999, 'x')$$,                           'NOT_FOUND',   'edit_message: a seq beyond the log'),
($$SELECT rt.edit_message('r', 'bob', 9223372036854775807, 'x')$$,              'NOT_FOUND',   'edit_message: the largest bigint'),
($$SELECT rt.edit_message('r', 'bob', 7, 'x')$$,                                'NOT_FOUND',   'edit_message: an event that is not a message'),
($$SELECT rt.edit_message('r', 'bob', 8, 'x')$$,                                'NOT_FOUND',   'edit_message: a deleted message'),
($$SELECT rt.edit_message('r', 'bob', 5, NULL)$$,                               'BAD_REQUEST', 'edit_message: NULL body'),
($$SELECT rt.edit_message('r', 'bob', 5, '')$$,                                 'BAD_REQUEST', 'edit_message: empty body'),
($$SELECT rt.edit_message('r', 'bob', 5, repeat('x', 65537))$$,                 'TOO_LARGE',   'edit_message: body over max_event_bytes'),
($$SELECT rt.edit_message('r', 'bob', 6, 'x')$$,                                'FORBIDDEN',   'edit_message: a member edits the owner''s message'),
($$SELECT rt.edit_message('r', 'bot', 5, 'x')$$,                                'FORBIDDEN',   'edit_message: a service edits another''s message'),
($$SELECT rt.edit_message('r', 'vic', 5, 'x')$$,                                'FORBIDDEN',   'edit_message: a viewer edits'),
($$SELECT rt.edit_message('r', 'eve', 5, 'x')$$,                                'FORBIDDEN',   'edit_message: a non-member edits'),
($$SELECT rt.edit_message('x', 'ann', 2, 'x')$$,                                'FORBIDDEN',   'edit_message: a foreign room''s message'),
($$SELECT rt.edit_message('e', 'bob', 3, 'x')$$,                                'CONFLICT',    'edit_message: in an ended room'),
-- delete_message
($$SELECT rt.delete_message('r', 'bob', NULL)$$,                                'BAD_REQUEST', 'delete_message: NULL seq'),
($$SELECT rt.delete_message('r', 'bob', -5)$$,                                  'BAD_REQUEST', 'delete_message: negative seq'),
($$SELECT rt.delete_message('r', 'bob', 8)$$,                                   'NOT_FOUND',   'delete_message: deleting twice'),
($$SELECT rt.delete_message('r', 'bob', 7)$$,                                   'NOT_FOUND',   'delete_message: an event that is not a message'),
($$SELECT rt.delete_message('r', 'bob', 999999)$$,                              'NOT_FOUND',   'delete_message: a seq beyond the log'),
($$SELECT rt.delete_message('r', 'bob', 6)$$,                                   'FORBIDDEN',   'delete_message: a member deletes the owner''s message'),
($$SELECT rt.delete_message('r', 'vic', 5)$$,                                   'FORBIDDEN',   'delete_message: a viewer deletes'),
($$SELECT rt.delete_message('r', 'bot', 5)$$,                                   'FORBIDDEN',   'delete_message: a service deletes another''s message'),
($$SELECT rt.delete_message('x', 'ann', 2)$$,                                   'FORBIDDEN',   'delete_message: a foreign room''s message'),
($$SELECT rt.delete_message('nope', 'bob', 1)$$,                                'FORBIDDEN',   'delete_message: a missing room'),
($$SELECT rt.delete_message('e', 'bob', 3)$$,                                   'CONFLICT',    'delete_message: in an ended room'),
-- publish
($$SELECT rt.publish('r', 'bot', NULL, '{}')$$,                                 'BAD_REQUEST', 'publish: NULL event'),
($$SELECT rt.publish('r', 'bot', '', '{}')$$,                                   'BAD_REQUEST', 'publish: empty event'),
($$SELECT rt.publish('r', 'bot', 'nope', '{}')$$,                               'BAD_REQUEST', 'publish: unknown event'),
($$SELECT rt.publish('r', 'bot', 'Status', '{}')$$,                             'BAD_REQUEST', 'publish: event in the wrong case'),
($$SELECT rt.publish('r', 'bot', 'status;drop', '{}')$$,                        'BAD_REQUEST', 'publish: ; in event'),
($$SELECT rt.publish('r', 'bot', 'stat%', '{}')$$,                              'BAD_REQUEST', 'publish: % in event'),
($$SELECT rt.publish('r', 'bot', repeat('a', 65), '{}')$$,                      'BAD_REQUEST', 'publish: event of 65 characters'),
($$SELECT rt.publish('r', 'bot', 'message', '{"body":"forged"}')$$,             'BAD_REQUEST', 'publish: the system event message'),
($$SELECT rt.publish('r', 'bot', 'member_added', '{"user":"eve"}')$$,           'BAD_REQUEST', 'publish: the system event member_added'),
($$SELECT rt.publish('r', 'bot', 'room_ended', '{}')$$,                         'BAD_REQUEST', 'publish: the system event room_ended'),
($$SELECT rt.publish('r', 'bot', 'typing', '{}')$$,                             'BAD_REQUEST', 'publish: a signal name'),
($$SELECT rt.publish('r', 'bot', 'status', NULL)$$,                             'BAD_REQUEST', 'publish: NULL data'),
($$SELECT rt.publish('r', 'bot', 'status', '[]')$$,                             'BAD_REQUEST', 'publish: array data'),
($$SELECT rt.publish('r', 'bot', 'status', '"x"')$$,                            'BAD_REQUEST', 'publish: string data'),
($$SELECT rt.publish('r', 'bot', 'status', '1')$$,                              'BAD_REQUEST', 'publish: number data'),
($$SELECT rt.publish('r', 'bot', 'status', (SELECT deep FROM doc))$$,           'BAD_REQUEST', 'publish: data nested 70 deep'),
($$SELECT rt.publish('r', 'bot', 'status', (SELECT huge FROM doc))$$,           'TOO_LARGE',   'publish: data of 70000 bytes'),
($$SELECT rt.publish('r', 'bob', 'status', '{}')$$,                             'FORBIDDEN',   'publish: a member publishes'),
($$SELECT rt.publish('r', 'vic', 'ai_response', '{}')$$,                        'FORBIDDEN',   'publish: a viewer publishes'),
($$SELECT rt.publish('r', 'eve', 'status', '{}')$$,                             'FORBIDDEN',   'publish: a non-member publishes'),
($$SELECT rt.publish('x', 'bot', 'status', '{}')$$,                             'FORBIDDEN',   'publish: a foreign room'),
($$SELECT rt.publish('e', 'ann', 'status', '{}')$$,                             'CONFLICT',    'publish: an ended room'),
-- signal
($$SELECT rt.signal('r', 'bob', NULL, '{}')$$,                                  'BAD_REQUEST', 'signal: NULL event'),
($$SELECT rt.signal('r', 'bob', 'nope', '{}')$$,                                'BAD_REQUEST', 'signal: unknown event'),
($$SELECT rt.signal('r', 'bob', 'status', '{}')$$,                              'BAD_REQUEST', 'signal: a persisted name'),
($$SELECT rt.signal('r', 'bob', 'presence', '{"user":"ann","status":"left"}')$$, 'BAD_REQUEST', 'signal: forging presence'),
($$SELECT rt.signal('r', 'bob', 'read', '{"user":"ann","seq":1}')$$,            'BAD_REQUEST', 'signal: forging read'),
($$SELECT rt.signal('r', 'bob', 'typing', NULL)$$,                              'BAD_REQUEST', 'signal: NULL data'),
($$SELECT rt.signal('r', 'bob', 'typing', '[{}]')$$,                            'BAD_REQUEST', 'signal: array data'),
($$SELECT rt.signal('r', 'bob', 'typing', (SELECT deep FROM doc))$$,            'BAD_REQUEST', 'signal: data nested 70 deep'),
($$SELECT rt.signal('r', 'bob', 'typing', jsonb_build_object('x', repeat('x', 8000)))$$, 'TOO_LARGE', 'signal: data of 8000 bytes'),
($$SELECT rt.signal('r', 'bob', 'typing', (SELECT near_notify_limit FROM doc))$$, 'TOO_LARGE', 'signal: data that fits, its frame does not'),
($$SELECT rt.signal('r', 'vic', 'typing', '{}')$$,                              'FORBIDDEN',   'signal: a viewer signals'),
($$SELECT rt.signal('r', 'eve', 'typing', '{}')$$,                              'FORBIDDEN',   'signal: a non-member signals'),
($$SELECT rt.signal('x', 'bob', 'typing', '{}')$$,                              'FORBIDDEN',   'signal: a foreign room'),
($$SELECT rt.signal('e', 'bob', 'typing', '{}')$$,                              'CONFLICT',    'signal: an ended room'),
-- transition
($$SELECT rt.transition('c', 'bob', NULL)$$,                                    'BAD_REQUEST', 'transition: NULL state'),
($$SELECT rt.transition('c', 'bob', '')$$,                                      'BAD_REQUEST', 'transition: empty state'),
($$SELECT rt.transition('c', 'bob', 'SLEEPING')$$,                              'BAD_REQUEST', 'transition: unknown state'),
($$SELECT rt.transition('c', 'bob', 'listening')$$,                             'BAD_REQUEST', 'transition: state in the wrong case'),
($$SELECT rt.transition('c', 'bob', 'LISTENING'' OR ''x''=''x')$$,              'BAD_REQUEST', 'transition: quotes in state'),
($$SELECT rt.transition('c', 'bob', repeat('L', 100000))$$,                     'BAD_REQUEST', 'transition: state of 100000 characters'),
($$SELECT rt.transition('c', 'bob', 'IDLE')$$,                                  'INVALID_TRANSITION', 'transition: to the current state'),
($$SELECT rt.transition('c', 'bob', 'SPEAKING')$$,                              'INVALID_TRANSITION', 'transition: IDLE to SPEAKING'),
($$SELECT rt.transition('c', 'bob', 'LISTENING', 5)$$,                          'CONFLICT',    'transition: a stale expected_version'),
($$SELECT rt.transition('c', 'bob', 'LISTENING', -1)$$,                         'BAD_REQUEST', 'transition: a negative expected_version'),
($$SELECT rt.transition('c', 'vic', 'LISTENING')$$,                             'FORBIDDEN',   'transition: a viewer moves the state'),
($$SELECT rt.transition('c', 'eve', 'LISTENING')$$,                             'FORBIDDEN',   'transition: a non-member moves the state'),
($$SELECT rt.transition('c', 'bob', 'ENDED')$$,                                 'FORBIDDEN',   'transition: a member ends the room'),
($$SELECT rt.transition('r', 'ann', 'LISTENING')$$,                             'INVALID_TRANSITION', 'transition: a room without a state machine'),
($$SELECT rt.transition('nope', 'ann', 'LISTENING')$$,                          'FORBIDDEN',   'transition: a missing room'),
($$SELECT rt.transition('ce', 'ann', 'IDLE')$$,                                 'CONFLICT',    'transition: an ended room'),
-- mark_read
($$SELECT rt.mark_read(NULL, 'bob', 1)$$,                                       'BAD_REQUEST', 'mark_read: NULL room'),
($$SELECT rt.mark_read('r', NULL, 1)$$,                                         'BAD_REQUEST', 'mark_read: NULL user'),
($$SELECT rt.mark_read('r', 'bob', NULL)$$,                                     'BAD_REQUEST', 'mark_read: NULL seq'),
($$SELECT rt.mark_read('r', 'bob', -1)$$,                                       'BAD_REQUEST', 'mark_read: negative seq'),
($$SELECT rt.mark_read('r', 'bob', 100000)$$,                                   'BAD_REQUEST', 'mark_read: a seq beyond the latest'),
($$SELECT rt.mark_read('r', 'eve', 1)$$,                                        'FORBIDDEN',   'mark_read: a non-member'),
($$SELECT rt.mark_read('x', 'bob', 1)$$,                                        'FORBIDDEN',   'mark_read: a foreign room'),
($$SELECT rt.mark_read('nope', 'bob', 1)$$,                                     'FORBIDDEN',   'mark_read: a missing room'),
-- history
($$SELECT * FROM rt.history(NULL)$$,                                            'BAD_REQUEST', 'history: NULL room'),
($$SELECT * FROM rt.history('bad id')$$,                                        'BAD_REQUEST', 'history: invalid room id'),
($$SELECT * FROM rt.history('r', -1)$$,                                         'BAD_REQUEST', 'history: negative before'),
($$SELECT * FROM rt.history('r', NULL, 0)$$,                                    'BAD_REQUEST', 'history: max 0'),
($$SELECT * FROM rt.history('r', NULL, -5)$$,                                   'BAD_REQUEST', 'history: negative max'),
($$SELECT * FROM rt.history('r', NULL, 1001)$$,                                 'BAD_REQUEST', 'history: max 1001'),
($$SELECT * FROM rt.history('r', NULL, NULL)$$,                                 'BAD_REQUEST', 'history: NULL max'),
($$SELECT * FROM rt.history('nope')$$,                                          'NOT_FOUND',   'history: a missing room (trusted call)'),
($$SELECT * FROM rt.history('x', NULL, 50, 'ann')$$,                            'FORBIDDEN',   'history: a foreign room'),
($$SELECT * FROM rt.history('nope', NULL, 50, 'ann')$$,                         'FORBIDDEN',   'history: a missing room (with actor)'),
($$SELECT * FROM rt.history('r', NULL, 50, 'eve')$$,                            'FORBIDDEN',   'history: a non-member'),
-- events_since
($$SELECT * FROM rt.events_since('r', NULL)$$,                                  'BAD_REQUEST', 'events_since: NULL after_seq'),
($$SELECT * FROM rt.events_since('r', -1)$$,                                    'BAD_REQUEST', 'events_since: negative after_seq'),
($$SELECT * FROM rt.events_since('r', 0, 0)$$,                                  'BAD_REQUEST', 'events_since: max 0'),
($$SELECT * FROM rt.events_since('r', 0, 1001)$$,                               'BAD_REQUEST', 'events_since: max 1001'),
($$SELECT * FROM rt.events_since('r\', 0)$$,                                    'BAD_REQUEST', 'events_since: backslash in room id'),
($$SELECT * FROM rt.events_since('nope', 0)$$,                                  'NOT_FOUND',   'events_since: a missing room (trusted call)'),
($$SELECT * FROM rt.events_since('x', 0, 10, 'ann')$$,                          'FORBIDDEN',   'events_since: a foreign room'),
($$SELECT * FROM rt.events_since('r', 0, 10, 'eve')$$,                          'FORBIDDEN',   'events_since: a non-member'),
-- end_room
($$SELECT rt.end_room(NULL, 'ann')$$,                                           'BAD_REQUEST', 'end_room: NULL room'),
($$SELECT rt.end_room('r', NULL)$$,                                             'BAD_REQUEST', 'end_room: NULL actor'),
($$SELECT rt.end_room('r', 'bob')$$,                                            'FORBIDDEN',   'end_room: a member'),
($$SELECT rt.end_room('r', 'vic')$$,                                            'FORBIDDEN',   'end_room: a viewer'),
($$SELECT rt.end_room('r', 'eve')$$,                                            'FORBIDDEN',   'end_room: a non-member'),
($$SELECT rt.end_room('x', 'ann')$$,                                            'FORBIDDEN',   'end_room: a foreign room'),
($$SELECT rt.end_room('nope', 'ann')$$,                                         'FORBIDDEN',   'end_room: a missing room'),
($$SELECT rt.end_room('e', 'ann')$$,                                            'CONFLICT',    'end_room: already ended'),
($$SELECT rt.end_room('ce', 'ann')$$,                                           'CONFLICT',    'end_room: an ended conversation'),
-- notify_user, broadcast
($$SELECT rt.notify_user(NULL, 'hello', '{}')$$,                                'BAD_REQUEST', 'notify_user: NULL user'),
($$SELECT rt.notify_user('', 'hello', '{}')$$,                                  'BAD_REQUEST', 'notify_user: empty user'),
($$SELECT rt.notify_user(E'bob\x1b[2J', 'hello', '{}')$$,                       'BAD_REQUEST', 'notify_user: terminal escape in user'),
($$SELECT rt.notify_user('bob', NULL, '{}')$$,                                  'BAD_REQUEST', 'notify_user: NULL event'),
($$SELECT rt.notify_user('bob', 'Hello World', '{}')$$,                         'BAD_REQUEST', 'notify_user: invalid event name'),
($$SELECT rt.notify_user('bob', 'hello', NULL)$$,                               'BAD_REQUEST', 'notify_user: NULL data'),
($$SELECT rt.notify_user('bob', 'hello', '[]')$$,                               'BAD_REQUEST', 'notify_user: array data'),
($$SELECT rt.notify_user('bob', 'hello', (SELECT deep FROM doc))$$,             'BAD_REQUEST', 'notify_user: data nested 70 deep'),
($$SELECT rt.notify_user('bob', 'hello', (SELECT near_notify_limit FROM doc))$$, 'TOO_LARGE',  'notify_user: data that fits, its frame does not'),
($$SELECT rt.broadcast(NULL, '{}')$$,                                           'BAD_REQUEST', 'broadcast: NULL event'),
($$SELECT rt.broadcast('a-b', '{}')$$,                                          'BAD_REQUEST', 'broadcast: - in event'),
($$SELECT rt.broadcast('hello', 'null')$$,                                      'BAD_REQUEST', 'broadcast: JSON null data'),
($$SELECT rt.broadcast('hello', (SELECT deep FROM doc))$$,                      'BAD_REQUEST', 'broadcast: data nested 70 deep'),
($$SELECT rt.broadcast('hello', (SELECT huge FROM doc))$$,                      'TOO_LARGE',   'broadcast: data of 70000 bytes'),
-- prefs (added)
($$SELECT rt.get_prefs(NULL)$$,                                                 'BAD_REQUEST', 'get_prefs: NULL user'),
($$SELECT rt.set_prefs(NULL, '{}')$$,                                           'BAD_REQUEST', 'set_prefs: NULL user'),
($$SELECT rt.set_prefs('bob', NULL)$$,                                          'BAD_REQUEST', 'set_prefs: NULL prefs'),
($$SELECT rt.set_prefs('bob', '[]')$$,                                          'BAD_REQUEST', 'set_prefs: array prefs'),
($$SELECT rt.set_prefs('bob', (SELECT deep FROM doc))$$,                        'BAD_REQUEST', 'set_prefs: prefs nested 70 deep'),
($$SELECT rt.set_prefs('bob', (SELECT huge FROM doc))$$,                        'TOO_LARGE',   'set_prefs: prefs of 70000 bytes');

SELECT plan((SELECT 2 * count(*)::int + 4 FROM bad));

-- The fixture is what the rows assume.
SELECT is((SELECT array_agg(seq ORDER BY seq) FROM rt.messages WHERE room = 'r'), '{5,6,8}'::bigint[], 'fixture: messages at 5, 6, 8');
SELECT ok((SELECT deleted_at IS NOT NULL FROM rt.messages WHERE room = 'r' AND seq = 8), 'fixture: 8 is deleted');
SELECT is((SELECT count(*)::int FROM rt.rooms WHERE id IN ('e', 'ce') AND ended_at IS NOT NULL), 2, 'fixture: e and ce have ended');

-- Every row: its documented error, and nothing written or notified.
SELECT t FROM bad, LATERAL tests.rejects(bad.call, bad.code, bad.what) t ORDER BY bad.n;

-- A value at the depth limit (64 levels below the top) is accepted.
SELECT is((rt.publish('r', 'bot', 'status', ('{"a":' || repeat('[', 63) || '1' || repeat(']', 63) || '}')::jsonb) ->> 'seq')::int, 10,
          'data nested exactly 64 deep is accepted');

SELECT * FROM finish();
ROLLBACK;
