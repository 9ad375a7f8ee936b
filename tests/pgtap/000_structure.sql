-- Structure: tables, the fixed signatures of docs/sql-api.md ("Functions"), security definer settings, seeds.
BEGIN;
\ir helpers.psql
SELECT plan(113);

SELECT has_schema('rt');
SELECT has_table('rt', t, 'table rt.' || t) FROM unnest(ARRAY[
    'error_codes', 'settings', 'room_kinds', 'kind_states', 'transitions', 'roles', 'rights',
    'role_rights', 'event_types', 'event_type_roles', 'rooms', 'members', 'events', 'messages',
    'prefs', 'bridges', 'presence']) AS t;

-- docs/sql-api.md, "Functions": names, argument names and types, return types.
CREATE TEMP TABLE api (fn text, args text, returns text);
INSERT INTO api VALUES
    ('create_room',    'kind text, owner text, title text, id text, meta jsonb', 'text'),
    ('add_member',     'room text, user_id text, role text, actor text', 'void'),
    ('remove_member',  'room text, user_id text, actor text', 'void'),
    ('post_message',   'room text, author text, body text, media_url text, meta jsonb, client_msg_id text', 'jsonb'),
    ('edit_message',   'room text, actor text, seq bigint, body text', 'jsonb'),
    ('delete_message', 'room text, actor text, seq bigint', 'jsonb'),
    ('publish',        'room text, actor text, event text, data jsonb', 'jsonb'),
    ('signal',         'room text, actor text, event text, data jsonb', 'void'),
    ('transition',     'room text, actor text, to_state text, expected_version integer', 'jsonb'),
    ('mark_read',      'room text, user_id text, seq bigint', 'void'),
    ('history',        'room text, before_seq bigint, max integer, actor text', 'SETOF jsonb'),
    ('events_since',   'room text, after_seq bigint, max integer, actor text', 'SETOF jsonb'),
    ('end_room',       'room text, actor text', 'jsonb'),
    ('notify_user',    'user_id text, event text, data jsonb', 'void'),
    ('broadcast',      'event text, data jsonb', 'void'),
    ('update_room',    'room text, actor text, title text, meta jsonb', 'jsonb'),
    ('get_prefs',      'user_id text', 'jsonb'),
    ('set_prefs',      'user_id text, prefs jsonb', 'jsonb'),
    ('dispatch',       'bridge_id text, conn_id text, user_id text, frame jsonb', 'jsonb'),
    ('batch',          'bridge_id text, commands jsonb', 'TABLE(i integer, ok boolean, body text)'),
    ('disconnect',     'bridge_id text, conn_id text', 'integer'),
    ('bridge_heartbeat', 'bridge_id text, info jsonb', 'boolean'),
    ('bridge_stopped', 'bridge_id text', 'integer'),
    ('reap_bridges',   'stale_after interval', 'integer'),
    ('prune_events',   '', 'bigint'),
    ('channels',       '', 'SETOF text'),
    ('room_channel',   'room text', 'text');

SELECT is((SELECT count(*)::int FROM pg_proc p WHERE p.pronamespace = 'rt'::regnamespace AND p.proname = a.fn),
          1, 'one rt.' || a.fn)
  FROM api a ORDER BY a.fn;
SELECT is(pg_get_function_identity_arguments(p.oid) || ' -> ' || pg_get_function_result(p.oid),
          a.args || ' -> ' || a.returns, 'signature of rt.' || a.fn)
  FROM api a JOIN pg_proc p ON p.pronamespace = 'rt'::regnamespace AND p.proname = a.fn
 ORDER BY a.fn;

-- Defaults of the documented optional parameters.
SELECT is(pg_get_function_arguments('rt.create_room(text,text,text,text,jsonb)'::regprocedure),
          'kind text, owner text, title text DEFAULT NULL::text, id text DEFAULT NULL::text, meta jsonb DEFAULT ''{}''::jsonb',
          'create_room defaults');
SELECT is(pg_get_function_arguments('rt.post_message(text,text,text,text,jsonb,text)'::regprocedure),
          'room text, author text, body text, media_url text DEFAULT NULL::text, meta jsonb DEFAULT ''{}''::jsonb, client_msg_id text DEFAULT NULL::text',
          'post_message defaults');
SELECT is(pg_get_function_arguments('rt.history(text,bigint,integer,text)'::regprocedure),
          'room text, before_seq bigint DEFAULT NULL::bigint, max integer DEFAULT 50, actor text DEFAULT NULL::text',
          'history defaults');
SELECT is(pg_get_function_arguments('rt.events_since(text,bigint,integer,text)'::regprocedure),
          'room text, after_seq bigint, max integer DEFAULT 1000, actor text DEFAULT NULL::text',
          'events_since defaults');

-- Every API function runs as its owner with a pinned search_path.
SELECT ok(p.prosecdef, 'rt.' || a.fn || ' is SECURITY DEFINER')
  FROM api a JOIN pg_proc p ON p.pronamespace = 'rt'::regnamespace AND p.proname = a.fn
 WHERE a.fn NOT IN ('channels', 'room_channel')
 ORDER BY a.fn;
SELECT is((SELECT count(*)::int FROM pg_proc p
            WHERE p.pronamespace = 'rt'::regnamespace
              AND NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp']
                               OR p.proconfig @> ARRAY['search_path=pg_catalog'], false)
              AND p.proname NOT IN ('emit')),  -- the test wrapper installed by helpers.psql
          0, 'every rt function pins search_path');

-- Seeds.
SELECT results_eq('SELECT code, sqlstate FROM rt.error_codes ORDER BY code',
    $$VALUES ('BAD_REQUEST','RT400'), ('CONFLICT','RT409'), ('FORBIDDEN','RT403'), ('INTERNAL','RT500'),
             ('INVALID_TRANSITION','RT422'), ('NOT_FOUND','RT404'), ('RATE_LIMITED','RT429'),
             ('TOO_LARGE','RT413'), ('UNAUTHORIZED','RT401'), ('UNAVAILABLE','RT503')$$,
    'error codes and their SQLSTATEs');
SELECT results_eq('SELECT code FROM rt.error_codes WHERE retry ORDER BY code',
    $$VALUES ('RATE_LIMITED'), ('UNAVAILABLE')$$, 'only RATE_LIMITED and UNAVAILABLE are retryable');
SELECT results_eq('SELECT kind, initial_state FROM rt.room_kinds ORDER BY kind',
    $$VALUES ('chat', NULL::text), ('conversation', 'IDLE'), ('meeting', NULL), ('project', NULL)$$,
    'room kinds; only conversation has a state machine');
SELECT results_eq('SELECT role, string_agg(right_name, '','' ORDER BY right_name) FROM rt.role_rights GROUP BY role ORDER BY role',
    $$VALUES ('member', 'read,send,signal,transition'),
             ('owner', 'end_room,manage_members,manage_room,moderate,publish,read,send,signal,transition'),
             ('service', 'end_room,publish,read,send,signal,transition'),
             ('viewer', 'read')$$,
    'rights per role');
SELECT results_eq('SELECT event FROM rt.event_types WHERE NOT system AND persisted ORDER BY event',
    $$VALUES ('ai_response'), ('error'), ('status'), ('summary'), ('transcript')$$, 'publishable events');
SELECT results_eq('SELECT event FROM rt.event_types WHERE NOT system AND NOT persisted ORDER BY event',
    $$VALUES ('speech_event'), ('transcript_interim'), ('typing')$$, 'signal events');
SELECT results_eq('SELECT event FROM rt.event_types WHERE system ORDER BY event',
    $$VALUES ('member_added'), ('member_removed'), ('message'), ('message_deleted'), ('message_edited'),
             ('presence'), ('read'), ('room_created'), ('room_ended'), ('room_updated'), ('state'), ('user_erased')$$,
    'system-only events');
SELECT results_eq('SELECT event, string_agg(role, '','' ORDER BY role) FROM rt.event_type_roles GROUP BY event ORDER BY event',
    $$VALUES ('ai_response', 'owner,service'), ('error', 'owner,service'), ('speech_event', 'member,owner,service'),
             ('status', 'owner,service'), ('summary', 'owner,service'), ('transcript', 'owner,service'),
             ('transcript_interim', 'member,owner,service'), ('typing', 'member,owner,service')$$,
    'which roles may use each event');
SELECT is((SELECT count(*)::int FROM rt.transitions WHERE kind = 'conversation'), 21, '21 conversation transitions');
SELECT results_eq('SELECT key, value FROM rt.settings ORDER BY key',
    $$VALUES ('max_event_bytes', '65536'), ('max_meta_bytes', '16384'), ('max_prefs_bytes', '16384'),
             ('retention', '30 days')$$, 'default settings');
SELECT is(rt.schema_version(), (SELECT coalesce(max(version), 0) FROM rt.schema_migrations), 'schema_version is the newest applied migration');

SELECT * FROM finish();
ROLLBACK;
