-- rt.erase_user (docs/sql-api.md "Erasure of a user"): content gone from history, replay, export and
-- search; seq gap-free; each affected room told; receipts, presence, prefs gone; audited.
BEGIN;
\ir helpers.psql
SELECT plan(34);

SELECT rt.create_room('chat', 'ann', id => 'a');
SELECT rt.create_room('meeting', 'ann', id => 'm');
SELECT rt.create_room('chat', 'ann', id => 'quiet');
SELECT rt.create_room('chat', 'eve', id => 'o');
SELECT rt.add_member('a', 'eve');
SELECT rt.add_member('m', 'eve', 'service');
SELECT rt.add_member('quiet', 'eve');
SELECT rt.add_member('o', 'ann');
SELECT rt.post_message('a', 'eve', 'secret plan', 'https://x.example/p.png', '{"k": 1}');  -- a 3
SELECT rt.post_message('a', 'ann', 'ann says hi');                                       -- a 4
SELECT rt.edit_message('a', 'eve', 3, 'secret plan v2');                                 -- a 5
SELECT rt.edit_message('a', 'ann', 3, 'moderated plan');                                 -- a 6: ann edits eve's
SELECT rt.publish('m', 'eve', 'transcript', '{"text": "secret spoken words", "speaker": "eve"}');  -- m 3
SELECT rt.post_message('o', 'ann', 'ann in o');                                          -- o 3
SELECT rt.edit_message('o', 'eve', 3, 'secret rewrite by eve');                          -- o 4: eve (owner) edits ann's
SELECT rt.mark_read('a', 'eve', 4);
SELECT rt.set_prefs('eve', '{"theme": "dark"}');
SELECT rt.dispatch('b1', 'c1', 'eve', '{"type":"join","room":"quiet"}');
SELECT rt.end_room('o', 'eve');                                                          -- o 5
SELECT is((SELECT count(*)::int FROM rt.search('ann', 'secret')), 2, 'before: eve''s words are found (o3, m3)');

SELECT is(rt.erase_user('eve', 'dpo@corp'),
          '{"user": "eve", "rooms": 3, "events": 5, "messages": 1, "presence": 1, "receipts": 1}',
          'counts: 3 rooms, 1 message, 5 events (message, 2 own edits, ann''s edit of it, transcript)');

-- History, replay and export serve tombstones only.
SELECT is((SELECT e -> 'data' FROM rt.history('a', 4, 1) e),
          '{"body": null, "meta": {}, "erased": true, "media_url": null, "client_msg_id": null}',
          'the message is a tombstone: body, media_url, meta gone');
SELECT is((SELECT e ->> 'actor' FROM rt.history('a', 4, 1) e), 'eve', 'same seq, event and actor');
SELECT is((SELECT array_agg((e -> 'data' ->> 'body') IS NULL ORDER BY (e ->> 'seq')::int) FROM rt.events_since('a', 4) e
            WHERE e ->> 'event' = 'message_edited'), ARRAY[true, true], 'both edits of it are redacted');
SELECT is((SELECT count(*)::int FROM rt.events_since('a', 0) e WHERE e::text LIKE '%secret%'), 0, 'replay: no trace of the text');
SELECT is((SELECT count(*)::int FROM rt.export_room('a') l WHERE l LIKE '%secret%' OR l LIKE '%p.png%'), 0, 'export: no trace');
SELECT is((SELECT count(*)::int FROM rt.export_room('m') l WHERE l LIKE '%secret%'), 0, 'the transcript is gone too');
SELECT is((SELECT e -> 'data' FROM rt.history('m', 4, 1) e), '{"erased": true}', 'a published event keeps only erased:true');
SELECT is((SELECT count(*)::int FROM rt.events WHERE data::text LIKE '%secret%'), 0, 'nothing anywhere in the log');
SELECT is((SELECT count(*)::int FROM rt.messages WHERE body LIKE '%secret%'), 0, 'nor in the current form of messages');
SELECT is((SELECT count(*)::int FROM rt.search('ann', 'secret')), 0, 'search finds nothing');
SELECT is((SELECT count(*)::int FROM rt.search('ann', 'spoken')), 0, 'nor in transcripts');
SELECT is((SELECT body FROM rt.messages WHERE room = 'o' AND seq = 3), 'ann in o',
          'a message eve had edited shows its text from before her edit');
SELECT is((SELECT body FROM rt.messages WHERE room = 'a' AND seq = 4), 'ann says hi', 'others'' messages stay');

-- seq gap-free, rooms told.
SELECT is((SELECT array_agg(seq ORDER BY seq) FROM rt.events WHERE room = 'a'), ARRAY[1,2,3,4,5,6,7]::bigint[], 'a: no gap');
SELECT is((SELECT e - 'at' FROM rt.history('a', max => 1) e),
          '{"data": {"upto": 6, "user": "eve"}, "room": "a", "seq": 7, "type": "event", "actor": null, "event": "user_erased"}',
          'a user_erased event in each affected room');
SELECT is((SELECT array_agg(room ORDER BY room) FROM rt.events WHERE event = 'user_erased'), ARRAY['a', 'm', 'o'],
          'only rooms with content (the ended room too)');
SELECT ok((SELECT count(*) FROM tests.sent WHERE payload::jsonb ->> 'event' = 'user_erased') = 3, 'notified live');

-- Receipts, presence, prefs.
SELECT is((SELECT last_read_seq FROM rt.members WHERE room = 'a' AND user_id = 'eve'), 0::bigint, 'read receipt reset');
SELECT is((SELECT count(*)::int FROM rt.presence WHERE user_id = 'eve'), 0, 'presence gone');
SELECT is((SELECT payload::jsonb -> 'data' FROM tests.sent WHERE payload::jsonb ->> 'event' = 'presence' ORDER BY n DESC LIMIT 1),
          '{"user": "eve", "status": "left"}', 'with a presence left signal');
SELECT is(rt.get_prefs('eve'), '{}', 'preferences gone');
SELECT ok(rt.member_role('a', 'eve') = 'member', 'membership stays (access is a separate decision)');

-- Afterwards: edits/deletes of an erased message are NOT_FOUND; a second erasure has nothing left to do.
SELECT throws_ok($$SELECT rt.edit_message('a', 'ann', 3, 'x')$$, 'RT404', NULL, 'an erased message cannot be edited');
SELECT is(rt.erase_user('eve', 'dpo@corp') ->> 'rooms', '0', 'erasing again: nothing left, no event');

-- Audit.
SELECT is((SELECT actor FROM rt.audit WHERE action = 'user_erased' ORDER BY id LIMIT 1), 'dpo@corp', 'audited with who asked');

-- Errors change nothing; privileges.
SELECT tests.rejects($$SELECT rt.erase_user(NULL, 'dpo')$$, 'BAD_REQUEST', 'no user');
SELECT tests.rejects($$SELECT rt.erase_user('eve', '')$$, 'BAD_REQUEST', 'an empty erased_by');
SELECT tests.rejects($$SELECT rt.erase_user(E'e\nve', 'dpo')$$, 'BAD_REQUEST', 'a control character');
SELECT ok(NOT has_function_privilege('rt_service', 'rt.erase_user(text,text)', 'EXECUTE')
          AND NOT has_function_privilege('rt_bridge', 'rt.erase_user(text,text)', 'EXECUTE')
          AND has_function_privilege('rt_compliance', 'rt.erase_user(text,text)', 'EXECUTE'),
          'only rt_compliance (and the owner) may erase');

SELECT * FROM finish();
ROLLBACK;
