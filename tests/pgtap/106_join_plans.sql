-- A join storm starts with rt.presence (nearly) empty, where a sequential scan is the cheaper plan, and
-- rt.join_room's plans are cached per backend: the joins that follow must still use the indexes, or
-- each reads every presence row of its room (O(N^2) for N joins; docs/benchmarks.md "Large rooms").
BEGIN;
\ir helpers.psql
SELECT plan(2);

SELECT rt.create_room('chat', 'ann', id => 'storm');
SELECT rt.add_member('storm', 's' || g) FROM generate_series(1, 60) g;
DELETE FROM rt.presence;
ANALYZE rt.presence; -- the statistics of a bridge that starts with no presence

CREATE TEMP TABLE before_joins AS
    SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables WHERE relid = 'rt.presence'::regclass;
SELECT rt.dispatch('b1', 'c' || g, 's' || g, jsonb_build_object('type', 'join', 'room', 'storm'))
  FROM generate_series(1, 60) g;

SELECT is((SELECT x.seq_scan - b.seq_scan FROM pg_stat_xact_user_tables x, before_joins b
            WHERE x.relid = 'rt.presence'::regclass), 0::bigint,
          'sixty joins into an empty presence table scan none of it sequentially');
SELECT ok((SELECT x.idx_scan - b.idx_scan FROM pg_stat_xact_user_tables x, before_joins b
            WHERE x.relid = 'rt.presence'::regclass) >= 60, 'they use its indexes');

SELECT * FROM finish();
ROLLBACK;
