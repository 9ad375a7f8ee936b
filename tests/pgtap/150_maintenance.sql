-- rt.maintenance and rt.set_maintenance: the switch every bridge follows.
BEGIN;
\ir helpers.psql
SELECT plan(20);

SELECT has_function('rt', 'maintenance', ARRAY[]::text[], 'rt.maintenance() exists');
SELECT has_function('rt', 'set_maintenance', ARRAY['boolean', 'text'], 'rt.set_maintenance(boolean, text) exists');
SELECT is((rt.maintenance() ->> 'active')::boolean, false, 'off by default');

SELECT lives_ok($$SELECT rt.set_maintenance(true, 'Upgrading the database, back in 5 minutes')$$, 'switch on with a message');
SELECT is((rt.maintenance() ->> 'active')::boolean, true, 'now on');
SELECT is(rt.maintenance() ->> 'message', 'Upgrading the database, back in 5 minutes', 'with its message');
SELECT ok((rt.maintenance() ->> 'since') ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$', 'since is ISO 8601 UTC');
SELECT is(tests.last_channel(), 'rt_system', 'announced on the system channel');
SELECT is(tests.last_sent() ->> 'event', 'maintenance', 'as a maintenance system frame');
SELECT is((tests.last_sent() -> 'data' ->> 'active')::boolean, true, 'carrying the new state');

SELECT lives_ok($$SELECT rt.set_maintenance(false)$$, 'switch off');
SELECT is((rt.maintenance() ->> 'active')::boolean, false, 'now off');
SELECT is(rt.maintenance() -> 'message', 'null'::jsonb, 'the message goes with it');

SELECT * FROM tests.rejects($$SELECT rt.set_maintenance(NULL)$$, 'BAD_REQUEST', 'active must be given');
SELECT * FROM tests.rejects($$SELECT rt.set_maintenance(true, repeat('x', 501))$$, 'BAD_REQUEST', 'a message over 500 characters');
SELECT * FROM tests.rejects($$SELECT rt.set_maintenance(true, E'line\nbreak')$$, 'BAD_REQUEST', 'a message with control characters');
SELECT is(rt.maintenance() -> 'active', 'false'::jsonb, 'refused switches left maintenance off');

SELECT * FROM finish();
ROLLBACK;
