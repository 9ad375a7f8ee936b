-- add_member, remove_member.
BEGIN;
\ir helpers.psql
SELECT plan(46);

SELECT rt.create_room('chat', 'ann', id => 'r');
SELECT lives_ok($$SELECT rt.add_member('r', 'bob')$$, 'add_member without actor (trusted)');
SELECT is(rt.member_role('r', 'bob'), 'member', 'default role member');
SELECT is(tests.last_sent() - 'at',
          '{"type":"event","room":"r","seq":2,"event":"member_added","actor":null,"data":{"user":"bob","role":"member"}}',
          'member_added notified (no actor for a trusted call)');
SELECT lives_ok($$SELECT rt.add_member('r', 'vic', 'viewer', 'ann')$$, 'add_member by the owner');
SELECT is((SELECT actor FROM rt.events WHERE room = 'r' AND seq = 3), 'ann', 'the owner is the actor');
SELECT is(rt.member_role('r', 'vic'), 'viewer', 'role viewer');

-- Same role again: nothing happens.
SELECT tests.changes_nothing($$SELECT rt.add_member('r', 'vic', 'viewer')$$,
                             'adding a member with its current role writes and notifies nothing');
SELECT lives_ok($$SELECT rt.add_member('r', 'vic', 'member', 'ann')$$, 'changing a role');
SELECT is((SELECT data FROM rt.events WHERE room = 'r' AND seq = 4), '{"user":"vic","role":"member","previous_role":"viewer"}',
          'member_added carries previous_role');

SELECT * FROM tests.rejects($$SELECT rt.add_member('r', 'eve', 'member', 'bob')$$, 'FORBIDDEN', 'add_member by a member');
SELECT * FROM tests.rejects($$SELECT rt.add_member('r', 'eve', 'member', 'eve')$$, 'FORBIDDEN', 'add_member by a non-member');
SELECT * FROM tests.rejects($$SELECT rt.add_member('nope', 'eve', 'member', 'ann')$$, 'FORBIDDEN', 'add_member to a missing room, with actor');
SELECT * FROM tests.rejects($$SELECT rt.add_member('nope', 'eve')$$, 'NOT_FOUND', 'add_member to a missing room, trusted');
SELECT * FROM tests.rejects($$SELECT rt.add_member('r', 'eve', 'king')$$, 'BAD_REQUEST', 'an unknown role');
SELECT * FROM tests.rejects($$SELECT rt.add_member('r', 'eve', 'owner')$$, 'BAD_REQUEST', 'a second owner');
SELECT * FROM tests.rejects($$SELECT rt.add_member('r', 'ann', 'viewer')$$, 'CONFLICT', 'demoting the owner');
SELECT * FROM tests.rejects($$SELECT rt.add_member('r', '')$$, 'BAD_REQUEST', 'an empty user id');
SELECT * FROM tests.rejects($$SELECT rt.add_member('bad id', 'eve')$$, 'BAD_REQUEST', 'an invalid room id');

-- remove_member
SELECT rt.dispatch('b1', 'c1', 'bob', '{"type":"join","room":"r"}');
SELECT lives_ok($$SELECT rt.remove_member('r', 'bob', 'ann')$$, 'remove_member by the owner');
SELECT is(rt.member_role('r', 'bob'), NULL, 'bob is no longer a member');
SELECT results_eq($$SELECT payload::jsonb ->> 'event' FROM tests.sent ORDER BY n DESC LIMIT 2$$,
                  $$VALUES ('presence'), ('member_removed')$$, 'member_removed, then presence left');
SELECT is(tests.last_sent() -> 'data', '{"user":"bob","status":"left"}', 'presence left for the removed member');
SELECT is((SELECT count(*)::int FROM rt.presence WHERE room = 'r' AND user_id = 'bob'), 0, 'its presence is gone');
SELECT * FROM tests.rejects($$SELECT rt.remove_member('r', 'bob')$$, 'NOT_FOUND', 'removing a non-member');
SELECT * FROM tests.rejects($$SELECT rt.remove_member('r', 'ann')$$, 'CONFLICT', 'removing the owner');
SELECT * FROM tests.rejects($$SELECT rt.remove_member('r', 'vic', 'vic')$$, 'FORBIDDEN', 'remove_member by a member');
SELECT * FROM tests.rejects($$SELECT rt.remove_member('nope', 'vic', 'ann')$$, 'FORBIDDEN', 'remove_member in a missing room, with actor');
SELECT * FROM tests.rejects($$SELECT rt.remove_member('nope', 'vic')$$, 'NOT_FOUND', 'remove_member in a missing room, trusted');

SELECT rt.end_room('r', 'ann');
SELECT * FROM tests.rejects($$SELECT rt.add_member('r', 'eve')$$, 'CONFLICT', 'add_member after the end');
SELECT * FROM tests.rejects($$SELECT rt.remove_member('r', 'vic')$$, 'CONFLICT', 'remove_member after the end');

SELECT * FROM finish();
ROLLBACK;
