-- publish (persisted application events) and signal (ephemeral).
BEGIN;
\ir helpers.psql
SELECT plan(54);

SELECT rt.create_room('conversation', 'ann', id => 'r');
SELECT rt.add_member('r', 'bob');
SELECT rt.add_member('r', 'vic', 'viewer');
SELECT rt.add_member('r', 'bot', 'service');

-- publish
SELECT is(rt.publish('r', 'bot', 'ai_response', '{"text":"Hi!"}') - 'at',
          '{"type":"event","room":"r","seq":5,"event":"ai_response","actor":"bot","data":{"text":"Hi!"}}',
          'a service publishes ai_response');
SELECT is(tests.last_sent() - 'at', '{"type":"event","room":"r","seq":5,"event":"ai_response","actor":"bot","data":{"text":"Hi!"}}',
          'and it is notified');
SELECT is((SELECT count(*)::int FROM rt.events WHERE room = 'r' AND event = 'ai_response'), 1, 'and stored');
SELECT lives_ok($$SELECT rt.publish('r', 'ann', e, '{}') FROM unnest(ARRAY['transcript','status','summary','error']) e$$,
                'the owner publishes transcript, status, summary, error');
SELECT * FROM tests.rejects($$SELECT rt.publish('r', 'bob', 'status', '{}')$$, 'FORBIDDEN', 'a member publishing');
SELECT * FROM tests.rejects($$SELECT rt.publish('r', 'vic', 'status', '{}')$$, 'FORBIDDEN', 'a viewer publishing');
SELECT * FROM tests.rejects($$SELECT rt.publish('r', 'eve', 'status', '{}')$$, 'FORBIDDEN', 'a non-member publishing');
SELECT * FROM tests.rejects($$SELECT rt.publish('nope', 'bot', 'status', '{}')$$, 'FORBIDDEN', 'publishing to a missing room');
SELECT * FROM tests.rejects($$SELECT rt.publish('r', 'bot', 'message', '{"body":"x"}')$$, 'BAD_REQUEST', 'publishing a system event');
SELECT * FROM tests.rejects($$SELECT rt.publish('r', 'bot', 'state', '{}')$$, 'BAD_REQUEST', 'publishing state');
SELECT * FROM tests.rejects($$SELECT rt.publish('r', 'bot', 'typing', '{}')$$, 'BAD_REQUEST', 'publishing a signal name');
SELECT * FROM tests.rejects($$SELECT rt.publish('r', 'bot', 'made_up', '{}')$$, 'BAD_REQUEST', 'publishing an unknown event');
SELECT * FROM tests.rejects($$SELECT rt.publish('r', 'bot', 'Bad-Name', '{}')$$, 'BAD_REQUEST', 'an invalid event name');
SELECT * FROM tests.rejects($$SELECT rt.publish('r', 'bot', 'status', '[1]')$$, 'BAD_REQUEST', 'data not an object');
SELECT * FROM tests.rejects($$SELECT rt.publish('r', 'bot', 'status', NULL)$$, 'BAD_REQUEST', 'no data');
SELECT * FROM tests.rejects($$SELECT rt.publish('r', 'bot', 'status', jsonb_build_object('t', repeat('x', 70000)))$$,
                            'TOO_LARGE', 'data over max_event_bytes');

-- signal
SELECT tests.changes_nothing($$SELECT 1$$, 'baseline');
SELECT is((SELECT count(*)::int FROM (SELECT rt.signal('r', 'bob', 'typing', '{"on":true}')) x), 1, 'a member signals typing');
SELECT is(tests.last_sent() - 'at', '{"type":"event","room":"r","event":"typing","actor":"bob","data":{"on":true}}',
          'the signal is notified without seq');
SELECT is((SELECT count(*)::int FROM rt.events WHERE room = 'r' AND event = 'typing'), 0, 'and not stored');
SELECT is((SELECT last_seq FROM rt.rooms WHERE id = 'r'), 9::bigint, 'and takes no seq');
SELECT lives_ok($$SELECT rt.signal('r', 'bot', 'transcript_interim', '{"text":"hel"}'), rt.signal('r', 'ann', 'speech_event', '{}')$$,
                'transcript_interim and speech_event');
SELECT * FROM tests.rejects($$SELECT rt.signal('r', 'vic', 'typing', '{}')$$, 'FORBIDDEN', 'a viewer signalling');
SELECT * FROM tests.rejects($$SELECT rt.signal('r', 'eve', 'typing', '{}')$$, 'FORBIDDEN', 'a non-member signalling');
SELECT * FROM tests.rejects($$SELECT rt.signal('nope', 'bob', 'typing', '{}')$$, 'FORBIDDEN', 'signalling in a missing room');
SELECT * FROM tests.rejects($$SELECT rt.signal('r', 'bob', 'presence', '{}')$$, 'BAD_REQUEST', 'signalling presence');
SELECT * FROM tests.rejects($$SELECT rt.signal('r', 'bob', 'ai_response', '{}')$$, 'BAD_REQUEST', 'signalling a persisted name');
SELECT * FROM tests.rejects($$SELECT rt.signal('r', 'bob', 'made_up', '{}')$$, 'BAD_REQUEST', 'signalling an unknown event');
SELECT * FROM tests.rejects($$SELECT rt.signal('r', 'bob', 'typing', '"x"')$$, 'BAD_REQUEST', 'signal data not an object');
SELECT * FROM tests.rejects($$SELECT rt.signal('r', 'bob', 'typing', jsonb_build_object('t', repeat('x', 7900)))$$,
                            'TOO_LARGE', 'a signal over one NOTIFY payload');

SELECT rt.end_room('r', 'ann');
SELECT * FROM tests.rejects($$SELECT rt.publish('r', 'bot', 'status', '{}')$$, 'CONFLICT', 'publishing after the end');
SELECT * FROM tests.rejects($$SELECT rt.signal('r', 'bob', 'typing', '{}')$$, 'CONFLICT', 'signalling after the end');

SELECT * FROM finish();
ROLLBACK;
