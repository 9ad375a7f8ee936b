-- Wire shapes, channels and the NOTIFY helper (payload, reference fallback, refusals).
BEGIN;
\ir helpers.psql
SELECT plan(23);

SELECT is(rt.format_at('2026-11-22 07:40:00.123456+00'), '2026-11-22T07:40:00.123456Z', 'at: UTC, microseconds, Z');
SELECT is(rt.format_at('2026-11-22 09:40:00+02'), '2026-11-22T07:40:00.000000Z', 'at: converted to UTC');
SELECT is(rt.event_json('r', 7, 'message', 'ann', '2026-11-22 07:40:00.5+00', '{"body":"hi"}'),
          '{"type":"event","room":"r","seq":7,"event":"message","actor":"ann","at":"2026-11-22T07:40:00.500000Z","data":{"body":"hi"}}',
          'persisted event shape');
SELECT is(rt.event_json('r', NULL, 'typing', 'ann', '2026-11-22 07:40:00+00', '{}'),
          '{"type":"event","room":"r","event":"typing","actor":"ann","at":"2026-11-22T07:40:00.000000Z","data":{}}',
          'signal shape: no seq');
SELECT is(rt.system_json('notice', '{"a":1}'), '{"type":"system","event":"notice","data":{"a":1}}', 'broadcast frame');
SELECT is(rt.system_json('notice', '{}', 'u1'), '{"type":"system","event":"notice","data":{},"user":"u1"}',
          'per-user frame carries user');

-- Channels: 16 room channels + system, lower case, within 63 bytes.
SELECT is((SELECT count(*)::int FROM rt.channels()), 17, '17 channels');
SELECT ok((SELECT bool_and(c ~ '^[a-z0-9_]{1,63}$') FROM rt.channels() c), 'channel names are lower case and short');
SELECT ok(rt.room_channel('Room_1') IN (SELECT rt.channels()), 'a room channel is one of rt.channels()');
SELECT is(rt.room_channel('Room_1'), rt.room_channel('Room_1'), 'room_channel is stable');
SELECT is(rt.room_channel('abc'), 'rt_rooms_9', 'room_channel = rt_rooms_ || first hex digit of md5(room)');
SELECT is((SELECT count(DISTINCT rt.room_channel('room' || n))::int FROM generate_series(1, 1000) n), 16,
          'rooms spread over all 16 room channels');
SELECT ok('rt_system' IN (SELECT rt.channels()), 'the system channel is listed');

-- rt.emit: the payload is the wire JSON text; too large persisted events become references.
SELECT is(rt.emit(rt.event_json('abc', 1, 'message', 'a', now(), '{"body":"x"}')),
          rt.event_json('abc', 1, 'message', 'a', now(), '{"body":"x"}')::text, 'small event: payload is the event');
SELECT is(tests.last_channel(), 'rt_rooms_9', 'sent on the room channel');
SELECT is(rt.emit(rt.event_json('abc', 2, 'message', 'a', now(), jsonb_build_object('body', repeat('x', 7950))))::jsonb,
          '{"type":"ref","room":"abc","seq":2}', 'over 7999 bytes: a reference');
SELECT ok(octet_length(rt.emit(rt.event_json('abc', 3, 'message', 'a', now(),
                                              jsonb_build_object('body', repeat('é', 3990))))) < 100,
          'the limit counts bytes, not characters');
SELECT * FROM tests.rejects($$SELECT rt.emit(rt.event_json('abc', NULL, 'typing', 'a', now(), jsonb_build_object('t', repeat('x', 8000))))$$,
                            'TOO_LARGE', 'an oversized signal');
SELECT * FROM tests.rejects($$SELECT rt.emit(rt.system_json('big', jsonb_build_object('t', repeat('x', 8000))))$$,
                            'TOO_LARGE', 'an oversized system frame');
SELECT is(rt.emit(rt.system_json('hello', '{}')), '{"data": {}, "type": "system", "event": "hello"}', 'system frame payload');
SELECT is(tests.last_channel(), 'rt_system', 'system frames go to rt_system');

SELECT * FROM finish();
ROLLBACK;
