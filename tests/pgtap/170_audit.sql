-- Audit trail (docs/sql-api.md "Audit trail"): membership, roles, state, title/meta, retention and
-- holds are recorded with who and when; messages are not; nobody can change or delete the trail.
BEGIN;
\ir helpers.psql
SELECT plan(24);

SELECT rt.create_room('conversation', 'ann', 'T', id => 'r');
SELECT rt.add_member('r', 'bob', actor => 'ann');
SELECT rt.add_member('r', 'bob', 'viewer', actor => 'ann');
SELECT rt.add_member('r', 'svc', 'service');
SELECT rt.post_message('r', 'ann', 'not audited');
SELECT rt.transition('r', 'ann', 'LISTENING');
SELECT rt.update_room('r', 'ann', 'New title');
SELECT rt.remove_member('r', 'bob', 'ann');
SELECT rt.set_room_retention('r', 7, NULL, 'ann');
SELECT rt.place_legal_hold('r', NULL, 'case 42', 'legal@corp');
SELECT rt.release_legal_hold('r', NULL, 'legal@corp');
SELECT rt.end_room('r', 'svc');

SELECT is((SELECT array_agg(action ORDER BY id) FROM rt.audit WHERE room = 'r'),
          ARRAY['room_created', 'member_added', 'member_added', 'member_added', 'state', 'room_updated',
                'member_removed', 'retention_set', 'legal_hold_placed', 'legal_hold_released', 'room_ended'],
          'every audited change of the room, in order; the message is not one');
SELECT is((SELECT array_agg(coalesce(actor, '-') ORDER BY id) FROM rt.audit WHERE room = 'r'),
          ARRAY['ann', 'ann', 'ann', '-', 'ann', 'ann', 'ann', 'ann', 'legal@corp', 'legal@corp', 'svc'],
          'who: the acting user (NULL for a trusted call)');
SELECT is((SELECT count(*)::int FROM rt.audit WHERE room = 'r' AND db_user = session_user), 11,
          'and the database login that made the call');
SELECT is((SELECT detail FROM rt.audit WHERE room = 'r' AND action = 'member_added' ORDER BY id OFFSET 1 LIMIT 1),
          '{"user": "bob", "role": "viewer", "previous_role": "member"}', 'a role change keeps the previous role');
SELECT is((SELECT detail ->> 'to' FROM rt.audit WHERE room = 'r' AND action = 'state'), 'LISTENING', 'state: from/to/version');
SELECT is((SELECT seq FROM rt.audit WHERE room = 'r' AND action = 'state'),
          (SELECT seq FROM rt.events WHERE room = 'r' AND event = 'state'), 'an audited event keeps its seq');
SELECT is((SELECT at FROM rt.audit WHERE room = 'r' AND action = 'state'),
          (SELECT at FROM rt.events WHERE room = 'r' AND event = 'state'), 'and its time');
SELECT is((SELECT detail FROM rt.audit WHERE room = 'r' AND action = 'retention_set'),
          '{"scope": "room", "keep_days": 7, "keep_events": null}', 'retention changes are recorded');
SELECT is((SELECT detail ->> 'reason' FROM rt.audit WHERE room = 'r' AND action = 'legal_hold_placed'), 'case 42',
          'holds are recorded with their reason');

-- audit_log pages through the trail.
SELECT is((SELECT count(*)::int FROM rt.audit_log('r')), 11, 'audit_log(room)');
SELECT is((SELECT count(*)::int FROM rt.audit_log('r', max => 3)), 3, 'audit_log max');
SELECT is((SELECT min(id) FROM rt.audit_log('r', (SELECT min(id) FROM rt.audit WHERE room = 'r'))),
          (SELECT min(id) FROM rt.audit WHERE room = 'r' AND id > (SELECT min(id) FROM rt.audit WHERE room = 'r')),
          'audit_log after_id');
SELECT tests.rejects($$SELECT * FROM rt.audit_log('bad room')$$, 'BAD_REQUEST', 'a bad room id');
SELECT tests.rejects($$SELECT * FROM rt.audit_log(NULL, -1)$$, 'BAD_REQUEST', 'a negative after_id');
SELECT tests.rejects($$SELECT * FROM rt.audit_log(NULL, 0, 0)$$, 'BAD_REQUEST', 'max 0');

-- Append-only: even the owner of the table cannot change it.
SELECT throws_ok($$UPDATE rt.audit SET actor = 'x'$$, 'RT403', NULL, 'UPDATE is refused');
SELECT throws_ok($$DELETE FROM rt.audit$$, 'RT403', NULL, 'DELETE is refused');
SELECT throws_ok($$TRUNCATE rt.audit$$, 'RT403', NULL, 'TRUNCATE is refused');

-- Privileges: compliance reads it; services and bridges cannot touch it.
SELECT ok(has_table_privilege('rt_compliance', 'rt.audit', 'SELECT'), 'rt_compliance may SELECT the trail');
SELECT ok(NOT has_table_privilege('rt_compliance', 'rt.audit', 'UPDATE,DELETE,TRUNCATE,INSERT'),
          'rt_compliance may not change it');
SELECT ok(NOT has_table_privilege('rt_service', 'rt.audit', 'SELECT,UPDATE,DELETE,TRUNCATE,INSERT')
          AND NOT has_function_privilege('rt_service', 'rt.audit_log(text,bigint,integer)', 'EXECUTE'),
          'rt_service (room owners act through it) has no access');

SELECT * FROM finish();
ROLLBACK;
