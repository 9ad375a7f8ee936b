-- Error raising and mapping; settings.
BEGIN;
\ir helpers.psql
SELECT plan(32);

-- rt.raise uses the SQLSTATE of rt.error_codes and keeps MESSAGE, DETAIL and HINT.
SELECT throws_ok($$SELECT rt.raise(e.code, 'msg ' || e.code) FROM rt.error_codes e WHERE e.code = 'NOT_FOUND'$$,
                 'RT404', 'msg NOT_FOUND', 'raise NOT_FOUND -> RT404 with the message');
SELECT throws_ok($$SELECT rt.raise('CONFLICT', 'c', 'd', 'h')$$, 'RT409', 'c', 'raise with detail and hint');
SELECT throws_ok($$SELECT rt.raise('NO_SUCH_CODE', 'x')$$, 'RT500', NULL, 'an unknown code is an internal error');
SELECT is(tests.error_of($$SELECT rt.raise('BAD_REQUEST', 'm', detail => 'dd')$$),
          '{"code":"BAD_REQUEST","message":"m","retry":false}', 'detail stays out of the error object');

-- rt.error_body: every error code round-trips, with its retry flag.
SELECT is(rt.error_body(e.sqlstate, 'm'), jsonb_build_object('code', e.code, 'message', 'm', 'retry', e.retry),
          'error_body for ' || e.code)
  FROM rt.error_codes e ORDER BY e.code;
SELECT is(rt.error_body('22P02', 'invalid input syntax for type integer: "x"'),
          '{"code":"BAD_REQUEST","message":"a value in the request is invalid","retry":false}',
          'class 22 -> BAD_REQUEST without the PostgreSQL message');
SELECT is(rt.error_body('54000', 'total size of jsonb array elements exceeds the maximum'),
          '{"code":"TOO_LARGE","message":"the request is too large","retry":false}', '54000 -> TOO_LARGE');
SELECT is(rt.error_body('40P01', 'deadlock detected'),
          '{"code":"UNAVAILABLE","message":"the database is busy; retry","retry":true}', 'deadlock -> UNAVAILABLE, retry');
SELECT is(rt.error_body('42P01', 'relation "rt.secret" does not exist'),
          '{"code":"INTERNAL","message":"internal error","retry":false}', 'anything else -> INTERNAL, generic message');
SELECT results_eq('SELECT code, sqlstate, retry FROM rt.error_code_map()',
                  'SELECT code, sqlstate, retry FROM rt.error_codes ORDER BY sqlstate', 'error_code_map');

-- Settings.
SELECT lives_ok($$SELECT rt.set_setting('max_event_bytes', '32768')$$, 'set max_event_bytes');
SELECT is(rt.setting_int('max_event_bytes'), 32768, 'max_event_bytes changed');
SELECT lives_ok($$SELECT rt.set_setting('retention', '2 weeks')$$, 'set retention');
SELECT is(rt.setting('retention'), '2 weeks', 'retention changed');
SELECT * FROM tests.rejects($$SELECT rt.set_setting('max_event_bytes', '10')$$, 'BAD_REQUEST', 'max_event_bytes below 1024');
SELECT * FROM tests.rejects($$SELECT rt.set_setting('max_event_bytes', 'lots')$$, 'BAD_REQUEST', 'max_event_bytes not a number');
SELECT * FROM tests.rejects($$SELECT rt.set_setting('retention', '1 fortnight')$$, 'BAD_REQUEST', 'retention not an interval we accept');
SELECT * FROM tests.rejects($$SELECT rt.set_setting('no_such_key', '1')$$, 'BAD_REQUEST', 'unknown setting');
SELECT throws_ok($$UPDATE rt.settings SET value = '0' WHERE key = 'max_prefs_bytes'$$, '23514', NULL,
                 'the table itself refuses an invalid value');

SELECT * FROM finish();
ROLLBACK;
