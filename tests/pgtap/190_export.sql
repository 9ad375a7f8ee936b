-- rt.export_room (docs/sql-api.md "Export"): JSON lines of the log, same rights as history.
BEGIN;
\ir helpers.psql
SELECT plan(16);

SELECT rt.create_room('chat', 'ann', id => 'r');
SELECT rt.add_member('r', 'bob');
SELECT rt.post_message('r', 'bob', E'two\nlines "quoted"');
SELECT rt.post_message('r', 'bob', 'gone');
SELECT rt.delete_message('r', 'bob', 4);

SELECT is((SELECT count(*)::int FROM rt.export_room('r')), 5, 'every event (trusted call)');
SELECT is((SELECT array_agg((l::jsonb ->> 'seq')::int) FROM rt.export_room('r', 2, 'bob') l), ARRAY[3, 4, 5],
          'after_seq, ascending, for a member');
SELECT ok((SELECT bool_and(position(E'\n' IN l) = 0) FROM rt.export_room('r') l), 'one line per event');
SELECT is((SELECT l::jsonb FROM rt.export_room('r', 2) l LIMIT 1),
          (SELECT e FROM rt.history('r', 4, 1) e), 'the same wire JSON as history');
SELECT is((SELECT l::jsonb #>> '{data,body}' FROM rt.export_room('r', 3) l LIMIT 1), NULL,
          'a deleted message is exported as its tombstone');
SELECT is((SELECT count(*)::int FROM rt.export_room('r', 5)), 0, 'nothing after the latest');

SELECT tests.rejects($$SELECT * FROM rt.export_room('r', 0, 'eve')$$, 'FORBIDDEN', 'a non-member');
SELECT tests.rejects($$SELECT * FROM rt.export_room('nope', 0, 'eve')$$, 'FORBIDDEN', 'a missing room, with an actor');
SELECT tests.rejects($$SELECT * FROM rt.export_room('nope')$$, 'NOT_FOUND', 'a missing room, trusted');
SELECT tests.rejects($$SELECT * FROM rt.export_room('r', -1)$$, 'BAD_REQUEST', 'a negative after_seq');
SELECT tests.rejects($$SELECT * FROM rt.export_room('bad room')$$, 'BAD_REQUEST', 'a bad room id');

SELECT * FROM finish();
ROLLBACK;
