-- rt.dispatch: every frame type, and validation of each field's presence and JSON type.
BEGIN;
\ir helpers.psql
SELECT plan(61);

SELECT rt.create_room('conversation', 'ann', id => 'r');
SELECT rt.add_member('r', 'bob');
SELECT rt.add_member('r', 'bot', 'service');

CREATE FUNCTION pg_temp.d(frame text, who text DEFAULT 'bob') RETURNS jsonb LANGUAGE sql AS $$
    SELECT rt.dispatch('b1', 'c1', who, frame::jsonb) $$;
CREATE FUNCTION pg_temp.err(frame text, who text DEFAULT 'bob') RETURNS text LANGUAGE sql AS $$
    SELECT (tests.error_of(format('SELECT rt.dispatch(%L, %L, %L, %L::jsonb)', 'b1', 'c1', who, frame)) ->> 'code')
           || ': ' || (tests.error_of(format('SELECT rt.dispatch(%L, %L, %L, %L::jsonb)', 'b1', 'c1', who, frame)) ->> 'message') $$;

-- Each frame type.
SELECT is(pg_temp.d('{"type":"send","room":"r","ref":"1","body":"hi","client_msg_id":"k1","extra":true}') - 'at',
          '{"type":"event","room":"r","seq":4,"event":"message","actor":"bob","data":{"body":"hi","media_url":null,"meta":{},"client_msg_id":"k1"}}',
          'send -> the message event (extra fields ignored)');
SELECT is(pg_temp.d('{"type":"send","room":"r","body":"pic","media_url":"https://x.org/p.png","meta":{"w":1}}') -> 'data',
          '{"body":"pic","media_url":"https://x.org/p.png","meta":{"w":1},"client_msg_id":null}', 'send with media_url and meta');
SELECT is(pg_temp.d('{"type":"send","room":"r","body":"again","client_msg_id":"k1"}') ->> 'seq', '4', 'send retry by client_msg_id');
SELECT is(pg_temp.d('{"type":"publish","room":"r","event":"status","data":{"s":"ok"}}', 'bot') ->> 'event', 'status', 'publish');
SELECT is(pg_temp.d('{"type":"signal","room":"r","event":"typing","data":{}}'), '{}', 'signal -> {}');
SELECT is(tests.last_sent() ->> 'event', 'typing', 'signal was sent');
SELECT is(pg_temp.d('{"type":"state","room":"r","to":"LISTENING","expect":0}') -> 'data', '{"from":"IDLE","to":"LISTENING","version":1}', 'state');
SELECT is(pg_temp.d('{"type":"state","room":"r","to":"PROCESSING"}') -> 'data' -> 'version', '2', 'state without expect');
SELECT is(pg_temp.d('{"type":"edit","room":"r","seq":4,"body":"hi!"}') ->> 'event', 'message_edited', 'edit');
SELECT is(pg_temp.d('{"type":"delete","room":"r","seq":5}') ->> 'event', 'message_deleted', 'delete');
SELECT is(pg_temp.d('{"type":"read","room":"r","seq":4}'), '{}', 'read -> {}');
SELECT is((SELECT last_read_seq FROM rt.members WHERE room = 'r' AND user_id = 'bob'), 4::bigint, 'read was recorded');
SELECT is(jsonb_array_length(pg_temp.d('{"type":"history","room":"r"}') -> 'events'), 10, 'history: all 10 events');
SELECT is((SELECT array_agg((e ->> 'seq')::int) FROM jsonb_array_elements(pg_temp.d('{"type":"history","room":"r","before":9,"limit":3}') -> 'events') e),
          ARRAY[6,7,8], 'history with before and limit, ascending');
SELECT is(pg_temp.d('{"type":"history","room":"r","before":1}'), '{"events":[]}', 'an empty history page');
SELECT is(pg_temp.d('{"type":"join","room":"r","since":2}') ->> 'recovered', 'true', 'join');
SELECT is(pg_temp.d('{"type":"leave","room":"r"}'), '{}', 'leave');

-- Frame validation.
SELECT is(pg_temp.err('[1]'), 'BAD_REQUEST: a frame must be a JSON object', 'a non-object frame');
SELECT is(pg_temp.err('{"room":"r"}'), 'BAD_REQUEST: "type" is required', 'no type');
SELECT is(pg_temp.err('{"type":5,"room":"r"}'), 'BAD_REQUEST: "type" must be a string', 'type not a string');
SELECT is(pg_temp.err('{"type":"dance","room":"r"}'), 'BAD_REQUEST: unknown frame type ''dance''', 'an unknown type');
SELECT is(pg_temp.err('{"type":"auth","room":"r"}'), 'BAD_REQUEST: unknown frame type ''auth''', 'auth is the bridge''s, not ours');
SELECT is(pg_temp.err('{"type":"send","body":"x"}'), 'BAD_REQUEST: "room" is required', 'no room');
SELECT is(pg_temp.err('{"type":"send","room":null,"body":"x"}'), 'BAD_REQUEST: "room" is required', 'room null');
SELECT is(pg_temp.err('{"type":"send","room":7,"body":"x"}'), 'BAD_REQUEST: "room" must be a string', 'room not a string');
SELECT is(pg_temp.err('{"type":"send","room":"a b","body":"x"}'), 'BAD_REQUEST: "room" must be 1 to 64 characters of A-Z a-z 0-9 _ -', 'room invalid');
SELECT is(pg_temp.err('{"type":"send","room":"r"}'), 'BAD_REQUEST: "body" is required', 'send without body');
SELECT is(pg_temp.err('{"type":"send","room":"r","body":["x"]}'), 'BAD_REQUEST: "body" must be a string', 'body not a string');
SELECT is(pg_temp.err('{"type":"send","room":"r","body":"x","media_url":1}'), 'BAD_REQUEST: "media_url" must be a string', 'media_url not a string');
SELECT is(pg_temp.err('{"type":"send","room":"r","body":"x","client_msg_id":{}}'), 'BAD_REQUEST: "client_msg_id" must be a string', 'client_msg_id not a string');
SELECT is(pg_temp.err('{"type":"send","room":"r","body":"x","meta":"m"}'), 'BAD_REQUEST: "meta" must be an object', 'meta not an object');
SELECT is(pg_temp.err('{"type":"publish","room":"r","data":{}}', 'bot'), 'BAD_REQUEST: "event" is required', 'publish without event');
SELECT is(pg_temp.err('{"type":"publish","room":"r","event":"status"}', 'bot'), 'BAD_REQUEST: "data" is required', 'publish without data');
SELECT is(pg_temp.err('{"type":"publish","room":"r","event":"status","data":[]}', 'bot'), 'BAD_REQUEST: "data" must be an object', 'publish data not an object');
SELECT is(pg_temp.err('{"type":"signal","room":"r","event":true,"data":{}}'), 'BAD_REQUEST: "event" must be a string', 'signal event not a string');
SELECT is(pg_temp.err('{"type":"state","room":"r"}'), 'BAD_REQUEST: "to" is required', 'state without to');
SELECT is(pg_temp.err('{"type":"state","room":"r","to":"IDLE","expect":"1"}'), 'BAD_REQUEST: "expect" must be an integer', 'expect not an integer');
SELECT is(pg_temp.err('{"type":"state","room":"r","to":"IDLE","expect":1.5}'), 'BAD_REQUEST: "expect" must be an integer', 'expect fractional');
SELECT is(pg_temp.err('{"type":"state","room":"r","to":"IDLE","expect":99999999999}'), 'BAD_REQUEST: "expect" must be a version between 0 and 2147483647', 'expect out of range');
SELECT is(pg_temp.err('{"type":"edit","room":"r","body":"x"}'), 'BAD_REQUEST: "seq" is required', 'edit without seq');
SELECT is(pg_temp.err('{"type":"edit","room":"r","seq":"4","body":"x"}'), 'BAD_REQUEST: "seq" must be an integer', 'seq a string');
SELECT is(pg_temp.err('{"type":"edit","room":"r","seq":4}'), 'BAD_REQUEST: "body" is required', 'edit without body');
SELECT is(pg_temp.err('{"type":"delete","room":"r","seq":1e30}'), 'BAD_REQUEST: "seq" must be an integer', 'seq too large');
SELECT is(pg_temp.err('{"type":"read","room":"r"}'), 'BAD_REQUEST: "seq" is required', 'read without seq');
SELECT is(pg_temp.err('{"type":"history","room":"r","limit":0}'), 'BAD_REQUEST: "limit" must be between 1 and 1000', 'history limit 0');
SELECT is(pg_temp.err('{"type":"history","room":"r","before":"x"}'), 'BAD_REQUEST: "before" must be an integer', 'before not an integer');
SELECT alike(pg_temp.err('{"type":"history","room":"r","before":0}'), 'BAD_REQUEST: "before" must be%', 'before 0 names the frame field');
SELECT is(pg_temp.err('{"type":"join","room":"r","since":true}'), 'BAD_REQUEST: "since" must be an integer', 'since not an integer');

-- Visibility: the same FORBIDDEN for a missing room and a room one is not in.
SELECT is(pg_temp.err('{"type":"history","room":"r"}', 'eve'), 'FORBIDDEN: eve is not a member of room r', 'history of a room eve is not in');
SELECT is(pg_temp.err('{"type":"history","room":"zz"}', 'eve'), 'FORBIDDEN: eve is not a member of room zz', 'history of a missing room: same error');
SELECT is(pg_temp.err('{"type":"send","room":"zz","body":"x"}'), 'FORBIDDEN: bob is not a member of room zz', 'send to a missing room');

-- Identity arguments.
SELECT * FROM tests.rejects($$SELECT rt.dispatch(NULL, 'c1', 'bob', '{"type":"leave","room":"r"}')$$, 'BAD_REQUEST', 'no bridge_id');
SELECT * FROM tests.rejects($$SELECT rt.dispatch('b1', '', 'bob', '{"type":"leave","room":"r"}')$$, 'BAD_REQUEST', 'an empty conn_id');
SELECT * FROM tests.rejects($$SELECT rt.dispatch('b1', 'c1', NULL, '{"type":"leave","room":"r"}')$$, 'BAD_REQUEST', 'no user_id');
SELECT * FROM tests.rejects($$SELECT rt.dispatch('b1', 'c1', 'bob', NULL)$$, 'BAD_REQUEST', 'no frame');
SELECT * FROM tests.rejects($$SELECT rt.dispatch('b1', 'c1', 'bob', '{"type":"send","room":"r","body":""}')$$, 'BAD_REQUEST', 'an invalid send');

SELECT * FROM finish();
ROLLBACK;
