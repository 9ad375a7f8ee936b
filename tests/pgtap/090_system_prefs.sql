-- notify_user, broadcast, get_prefs, set_prefs.
BEGIN;
\ir helpers.psql
SELECT plan(34);

SELECT lives_ok($$SELECT rt.notify_user('bob', 'invited', '{"room":"r"}')$$, 'notify_user');
SELECT is(tests.last_sent(), '{"type":"system","event":"invited","data":{"room":"r"},"user":"bob"}', 'a system frame for bob');
SELECT is(tests.last_channel(), 'rt_system', 'on the system channel');
SELECT * FROM tests.rejects($$SELECT rt.notify_user('', 'invited', '{}')$$, 'BAD_REQUEST', 'notify_user without a user');
SELECT * FROM tests.rejects($$SELECT rt.notify_user('bob', 'Invited!', '{}')$$, 'BAD_REQUEST', 'notify_user with an invalid event');
SELECT * FROM tests.rejects($$SELECT rt.notify_user('bob', 'invited', '[]')$$, 'BAD_REQUEST', 'notify_user data not an object');
SELECT * FROM tests.rejects($$SELECT rt.notify_user('bob', 'invited', jsonb_build_object('x', repeat('x', 8000)))$$,
                            'TOO_LARGE', 'notify_user over one NOTIFY payload');

SELECT lives_ok($$SELECT rt.broadcast('maintenance', '{"in":300}')$$, 'broadcast');
SELECT is(tests.last_sent(), '{"type":"system","event":"maintenance","data":{"in":300}}', 'a system frame for everyone');
SELECT is(tests.last_channel(), 'rt_system', 'on the system channel');
SELECT * FROM tests.rejects($$SELECT rt.broadcast(NULL, '{}')$$, 'BAD_REQUEST', 'broadcast without an event');
SELECT * FROM tests.rejects($$SELECT rt.broadcast('x', NULL)$$, 'BAD_REQUEST', 'broadcast without data');
SELECT * FROM tests.rejects($$SELECT rt.broadcast('x', jsonb_build_object('x', repeat('x', 8000)))$$,
                            'TOO_LARGE', 'broadcast over one NOTIFY payload');

SELECT is(rt.get_prefs('bob'), '{}', 'no prefs yet: {}');
SELECT is(rt.set_prefs('bob', '{"theme":"dark"}'), '{"theme":"dark"}', 'set_prefs returns them');
SELECT is(rt.get_prefs('bob'), '{"theme":"dark"}', 'get_prefs');
SELECT is(rt.set_prefs('bob', '{"lang":"fr"}'), '{"lang":"fr"}', 'set_prefs replaces');
SELECT is(rt.get_prefs('bob'), '{"lang":"fr"}', 'the whole document was replaced');
SELECT * FROM tests.rejects($$SELECT rt.set_prefs('bob', '[1]')$$, 'BAD_REQUEST', 'prefs not an object');
SELECT * FROM tests.rejects($$SELECT rt.set_prefs('bob', NULL)$$, 'BAD_REQUEST', 'no prefs');
SELECT * FROM tests.rejects($$SELECT rt.set_prefs('bob', jsonb_build_object('x', repeat('x', 17000)))$$, 'TOO_LARGE', 'prefs over max_prefs_bytes');
SELECT * FROM tests.rejects($$SELECT rt.set_prefs(repeat('b', 200), '{}')$$, 'BAD_REQUEST', 'an invalid user id');
SELECT throws_ok($$SELECT rt.get_prefs(NULL)$$, 'RT400', NULL, 'get_prefs without a user');

SELECT * FROM finish();
ROLLBACK;
