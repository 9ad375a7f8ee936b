-- Trust boundaries (docs/operations.md "Trust model"): CONNECT only for pgrt's roles, NOTIFY
-- payloads tagged with an HMAC only the owner and rt_bridge can check, key rotation, and history
-- replies bounded in bytes (docs/protocol.md "history").
BEGIN;
\ir helpers.psql
SELECT plan(40);

-- CONNECT
SELECT ok(NOT has_database_privilege('public', current_database(), 'CONNECT'), 'PUBLIC may not connect');
SELECT ok(has_database_privilege('rt_bridge', current_database(), 'CONNECT'), 'rt_bridge may connect');
SELECT ok(has_database_privilege('rt_service', current_database(), 'CONNECT'), 'rt_service may connect');
SELECT ok(NOT has_database_privilege('pg_monitor', current_database(), 'CONNECT'), 'another role (pg_monitor) may not');

-- The tag: the frame, then ', "sig": "ID.HMAC-SHA256 hex"' as its last member.
SELECT rt.rotate_notify_key('0 s');
CREATE TEMP TABLE k AS SELECT id, secret FROM rt.notify_keys ORDER BY active_from DESC, id DESC LIMIT 1;
CREATE FUNCTION pg_temp.hmac(key bytea, msg text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE ipad bytea := key; opad bytea := key;
BEGIN
    FOR i IN 0 .. 63 LOOP
        ipad := set_byte(ipad, i, get_byte(key, i) # 54);
        opad := set_byte(opad, i, get_byte(key, i) # 92);
    END LOOP;
    RETURN encode(sha256(opad || sha256(ipad || convert_to(msg, 'UTF8'))), 'hex');
END $$;
SELECT is(rt.notify_sign('{"type": "event", "seq": 1}'),
          '{"type": "event", "seq": 1, "sig": "' || (SELECT id FROM k) || '.'
          || pg_temp.hmac((SELECT secret FROM k), '{"type": "event", "seq": 1}') || '"}',
          'the tag is the HMAC-SHA256 of the frame under the current key, appended as the last member');
SELECT is(rt.notify_sign('{"a": "é"}')::jsonb - 'sig', '{"a": "é"}'::jsonb, 'a tagged payload is still the same JSON object');
SELECT ok(octet_length(rt.notify_sign(repeat('x', 7913) || '}')) <= 7999 - 0,
          'a frame of rt.notify_max_bytes() still fits pg_notify once tagged');
SELECT is(rt.notify_max_bytes() + rt.notify_tag_bytes(), 7999, 'frames leave room for the tag');
SELECT * FROM tests.rejects($$SELECT rt.notify_sign('[1, 2]')$$, 'INTERNAL', 'only objects are signed');
SELECT * FROM tests.rejects($$SELECT rt.notify_sign('{}')$$, 'INTERNAL', 'not an empty object');
SELECT is(rt.emit(rt.event_json('abc', 1, 'message', 'a', now(), '{"body":"x"}')),
          rt.event_json('abc', 1, 'message', 'a', now(), '{"body":"x"}')::text,
          'rt.emit still returns the frame as clients receive it');
SELECT is(rt.emit(rt.event_json('abc', 2, 'message', 'a', now(), jsonb_build_object('body', repeat('x', 7900))))::jsonb,
          '{"type":"ref","room":"abc","seq":2}', 'a persisted frame too large once tagged becomes a reference');
SELECT * FROM tests.rejects($$SELECT rt.emit(rt.event_json('abc', NULL, 'typing', 'a', now(), jsonb_build_object('t', repeat('x', 7920))))$$,
                            'TOO_LARGE', 'a signal too large once tagged');

-- Rotation: a key in its grace does not sign yet; a rotation drops keys older than the signing one.
SELECT lives_ok($$SELECT rt.rotate_notify_key('1 hour')$$, 'a key that signs in an hour');
SELECT is(split_part(rt.notify_sign('{"a": 1}')::jsonb ->> 'sig', '.', 1)::int, (SELECT id FROM k), 'the current key still signs');
SELECT is((SELECT count(*)::int FROM rt.notify_keys_for_bridge()), (SELECT count(*)::int FROM rt.notify_keys),
          'bridges get every key, the one in its grace included');
SELECT ok((SELECT bool_and(secret ~ '^[0-9a-f]{128}$') FROM rt.notify_keys_for_bridge()), 'secrets of 64 bytes, in hex');
SELECT lives_ok($$SELECT rt.rotate_notify_key('0 s')$$, 'a key that signs at once');
SELECT isnt(split_part(rt.notify_sign('{"a": 1}')::jsonb ->> 'sig', '.', 1)::int, (SELECT id FROM k), 'the new key signs');
SELECT ok((SELECT id FROM k) IN (SELECT id FROM rt.notify_keys), 'its predecessor is kept for payloads in flight');
SELECT lives_ok($$SELECT rt.rotate_notify_key('0 s')$$, 'another rotation');
SELECT ok((SELECT id FROM k) NOT IN (SELECT id FROM rt.notify_keys), 'keys older than the signing one are removed');
SELECT * FROM tests.rejects($$SELECT rt.rotate_notify_key('-1 s')$$, 'BAD_REQUEST', 'a negative grace');
SELECT * FROM tests.rejects($$SELECT rt.rotate_notify_key('2 days')$$, 'BAD_REQUEST', 'a grace over a day');
SELECT * FROM tests.rejects($$SELECT rt.rotate_notify_key(NULL)$$, 'BAD_REQUEST', 'no grace');

-- Who can read the keys.
SET LOCAL ROLE rt_service;
SELECT throws_ok($$SELECT * FROM rt.notify_keys_for_bridge()$$, '42501', NULL, 'rt_service cannot read the keys');
SELECT throws_ok($$SELECT * FROM rt.notify_keys$$, '42501', NULL, 'rt_service cannot read the key table');
SELECT throws_ok($$SELECT rt.rotate_notify_key()$$, '42501', NULL, 'rt_service cannot rotate');
RESET ROLE;
SET LOCAL ROLE rt_bridge;
SELECT lives_ok($$SELECT * FROM rt.notify_keys_for_bridge()$$, 'rt_bridge reads the keys');
SELECT throws_ok($$SELECT rt.notify_sign('{"a": 1}')$$, '42501', NULL, 'rt_bridge cannot sign by itself');
RESET ROLE;

-- History in bytes: 64 events of ~64 KiB come in pages of at most rt.history_max_bytes().
SELECT rt.create_room('chat', 'ann', id => 'big');
SELECT rt.post_message('big', 'ann', repeat(chr(97 + n % 26), 64000)) FROM generate_series(1, 64) n;   -- seq 2..65
CREATE TEMP TABLE pages (n int, reply jsonb);
DO $$
DECLARE
    v_before bigint := NULL;
    v_reply jsonb;
BEGIN
    FOR i IN 1 .. 100 LOOP
        v_reply := rt.dispatch('b', 'c', 'ann', jsonb_build_object('type', 'history', 'room', 'big', 'limit', 1000)
                                               || CASE WHEN v_before IS NULL THEN '{}' ELSE jsonb_build_object('before', v_before) END);
        INSERT INTO pages VALUES (i, v_reply);
        EXIT WHEN NOT coalesce((v_reply ->> 'more')::boolean, false);
        v_before := (v_reply -> 'events' -> 0 ->> 'seq')::bigint;
    END LOOP;
END $$;
SELECT ok((SELECT bool_and((SELECT sum(octet_length(e::text)) FROM jsonb_array_elements(reply -> 'events') e) <= rt.history_max_bytes())
             FROM pages), 'every page is within the byte budget');
SELECT ok((SELECT max(octet_length(reply::text)) FROM pages) < 1048576 / 2, 'every reply is well under --max-queue-bytes');
SELECT is((SELECT array_agg((e ->> 'seq')::int ORDER BY (e ->> 'seq')::int)
             FROM pages, jsonb_array_elements(reply -> 'events') e),
          (SELECT array_agg(s) FROM generate_series(1, 65) s), 'paging with before reaches every event once');
SELECT ok((SELECT count(*) FROM pages) > 1 AND (SELECT bool_and(reply ? 'more') FROM pages WHERE n < (SELECT max(n) FROM pages))
          AND NOT (SELECT reply ? 'more' FROM pages ORDER BY n DESC LIMIT 1), 'more: true until the oldest page');

SELECT * FROM finish();
ROLLBACK;
