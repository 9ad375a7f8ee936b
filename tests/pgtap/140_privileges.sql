-- Privileges: rt_bridge and rt_service may execute their functions and nothing else; tables are
-- private; internal helpers are not callable.
BEGIN;
\ir helpers.psql
SELECT plan(28);

SELECT has_role('rt_bridge');
SELECT has_role('rt_service');
SELECT ok(NOT rolcanlogin, rolname || ' is NOLOGIN') FROM pg_roles WHERE rolname IN ('rt_bridge', 'rt_service') ORDER BY rolname;
SELECT schema_privs_are('rt', 'rt_service', ARRAY['USAGE'], 'rt_service may use schema rt');
SELECT schema_privs_are('rt', 'rt_bridge', ARRAY['USAGE'], 'rt_bridge may use schema rt');
SELECT schema_privs_are('rt', 'public', ARRAY[]::text[], 'PUBLIC may not use schema rt');

-- Exactly these functions, per role.
SELECT set_eq($$SELECT p.oid::regprocedure::text FROM pg_proc p
                 WHERE p.pronamespace = 'rt'::regnamespace AND has_function_privilege('rt_service', p.oid, 'EXECUTE')$$,
              ARRAY['rt.create_room(text,text,text,text,jsonb)', 'rt.update_room(text,text,text,jsonb)', 'rt.end_room(text,text)',
                    'rt.add_member(text,text,text,text)', 'rt.remove_member(text,text,text)',
                    'rt.post_message(text,text,text,text,jsonb,text)', 'rt.edit_message(text,text,bigint,text)',
                    'rt.delete_message(text,text,bigint)', 'rt.publish(text,text,text,jsonb)', 'rt.signal(text,text,text,jsonb)',
                    'rt.transition(text,text,text,integer)', 'rt.mark_read(text,text,bigint)',
                    'rt.history(text,bigint,integer,text)', 'rt.events_since(text,bigint,integer,text)',
                    'rt.notify_user(text,text,jsonb)', 'rt.broadcast(text,jsonb)', 'rt.get_prefs(text)', 'rt.set_prefs(text,jsonb)',
                    'rt.room_channel(text)', 'rt.system_channel()', 'rt.channels()', 'rt.error_code_map()',
                    'rt.error_body(text,text)', 'rt.schema_version()', 'rt.maintenance()',
                    'rt.set_maintenance(boolean,text)',
                    -- docs/sql-api.md "Retention and legal holds", "Export", "Search"
                    'rt.retention_policy(text,text)', 'rt.set_room_retention(text,integer,bigint,text,boolean)',
                    'rt.export_room(text,bigint,text)', 'rt.search(text,text,text,timestamp with time zone,integer)',
                    'rt.set_room_search(text,text,text,boolean)',
                    -- docs/sql-api.md "Presence and occupancy"
                    'rt.occupancy(text,text)', 'rt.roster(text,text,text,integer)', 'rt.set_presence_threshold(text,text,integer)'],
              'rt_service executes exactly the SQL API');
SELECT set_eq($$SELECT p.oid::regprocedure::text FROM pg_proc p
                 WHERE p.pronamespace = 'rt'::regnamespace AND has_function_privilege('rt_bridge', p.oid, 'EXECUTE')$$,
              ARRAY['rt.dispatch(text,text,text,jsonb)', 'rt.batch(text,jsonb)', 'rt.disconnect(text,text)',
                    'rt.bridge_heartbeat(text,jsonb)', 'rt.bridge_stopped(text)', 'rt.reap_bridges(interval)', 'rt.prune_events()',
                    'rt.events_since(text,bigint,integer,text)', 'rt.history(text,bigint,integer,text)',
                    'rt.notify_user(text,text,jsonb)', 'rt.broadcast(text,jsonb)', 'rt.room_channel(text)', 'rt.system_channel()',
                    'rt.channels()', 'rt.error_code_map()', 'rt.error_body(text,text)', 'rt.schema_version()',
                    'rt.maintenance()', 'rt.occupancy(text,text)', 'rt.roster(text,text,text,integer)',
                    -- docs/operations.md "Trust model": the keys that authenticate NOTIFY payloads
                    'rt.notify_keys_for_bridge()'],
              'rt_bridge executes exactly the bridge functions');
SELECT is((SELECT count(*)::int FROM pg_proc p
            WHERE p.pronamespace = 'rt'::regnamespace
              AND has_function_privilege('public', p.oid, 'EXECUTE')), 0, 'PUBLIC executes no rt function');
SELECT is((SELECT count(*)::int FROM pg_class c
            WHERE c.relnamespace = 'rt'::regnamespace AND c.relkind IN ('r', 'v', 'S')
              AND (has_table_privilege('rt_service', c.oid, 'SELECT,INSERT,UPDATE,DELETE,TRUNCATE')
                   OR has_table_privilege('rt_bridge', c.oid, 'SELECT,INSERT,UPDATE,DELETE,TRUNCATE')
                   OR has_table_privilege('public', c.oid, 'SELECT,INSERT,UPDATE,DELETE,TRUNCATE'))), 0,
          'no role has any privilege on any rt table');

-- Acting as the roles.
SELECT rt.create_room('chat', 'ann', id => 'r');
SET LOCAL ROLE rt_service;
SELECT throws_ok($$INSERT INTO rt.events (room, seq, event, actor, data, at) VALUES ('r', 99, 'message', 'x', '{}', now())$$,
                 '42501', NULL, 'rt_service cannot insert into rt.events');
SELECT throws_ok($$SELECT * FROM rt.rooms$$, '42501', NULL, 'rt_service cannot read rt.rooms');
SELECT throws_ok($$UPDATE rt.settings SET value = '1' WHERE key = 'max_event_bytes'$$, '42501', NULL, 'rt_service cannot change settings');
SELECT throws_ok($$SELECT rt.set_setting('retention', '1 day')$$, '42501', NULL, 'rt_service cannot call set_setting');
SELECT throws_ok($$SELECT rt.append_event('r', 'message', 'x', '{}')$$, '42501', NULL, 'rt_service cannot call internal helpers');
SELECT throws_ok($$SELECT rt.dispatch('b', 'c', 'ann', '{"type":"leave","room":"r"}')$$, '42501', NULL, 'rt_service cannot call dispatch');
SELECT lives_ok($$SELECT rt.add_member('r', 'bob')$$, 'rt_service adds a member');
SELECT is(rt.post_message('r', 'bob', 'as a service role') ->> 'seq', '3', 'rt_service posts');
SELECT is((SELECT count(*)::int FROM rt.history('r', actor => 'bob')), 3, 'rt_service reads history');
SELECT throws_ok($$SELECT rt.post_message('r', 'eve', 'x')$$, 'RT403', NULL, 'the function still checks the acting user');
RESET ROLE;

SET LOCAL ROLE rt_bridge;
SELECT is(rt.dispatch('b', 'c', 'bob', '{"type":"send","room":"r","body":"via bridge"}') ->> 'seq', '4', 'rt_bridge dispatches');
SELECT is((SELECT count(*)::int FROM rt.batch('b', '[{"conn":"c","user":"bob","frame":{"type":"read","room":"r","seq":4}}]') WHERE ok), 1,
          'rt_bridge runs a batch');
SELECT lives_ok($$SELECT rt.bridge_heartbeat('b'), rt.reap_bridges(), rt.disconnect('b', 'c'), rt.bridge_stopped('b')$$,
                'rt_bridge manages bridges and presence');
SELECT is((SELECT count(*)::int FROM rt.events_since('r', 0, 10, 'bob')), 4, 'rt_bridge replays');
SELECT is((SELECT count(*)::int FROM rt.channels()), 17, 'rt_bridge lists channels');
SELECT throws_ok($$SELECT rt.create_room('chat', 'x')$$, '42501', NULL, 'rt_bridge cannot create rooms directly');
SELECT throws_ok($$DELETE FROM rt.presence$$, '42501', NULL, 'rt_bridge cannot write rt.presence');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
