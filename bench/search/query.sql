-- Search latency (not a test): :n searches, each a one-word query by a random user across every
-- room that user may read (~20 rooms, ~20,000 messages), timed inside the database (the bridge adds
-- one round trip). Words are drawn like the message text (Zipf-like: common words are asked more,
-- the worst case for a full-text index) when :mode is 'zipf', uniformly from the vocabulary when
-- 'uniform'. Prints p50, p95, p99 and max in ms, and the mean number of results.
--   psql -v n=300 -v mode=zipf -f bench/search/query.sql
\set ON_ERROR_STOP on
SELECT set_config('bench.n', :'n', false), set_config('bench.mode', :'mode', false) \g /dev/null
CREATE TEMP TABLE timings (ms double precision, hits integer);
DO $q$
DECLARE
    v_user text;
    v_word text;
    v_t0   timestamptz;
    v_hits integer;
    v_rank integer;
    v_users integer := (SELECT count(DISTINCT user_id) FROM rt.members WHERE room LIKE 'sb\_%');
BEGIN
    -- one warm-up search (plans cached, as in a bridge's long-lived connection)
    PERFORM count(*) FROM rt.search('sbu1', 'warmup');
    FOR i IN 1 .. current_setting('bench.n')::integer LOOP
        v_user := 'sbu' || floor(random() * v_users)::integer;
        v_rank := CASE current_setting('bench.mode')
                      WHEN 'zipf' THEN least(20000, floor(power(20000, random()))::integer)
                      ELSE 1 + floor(random() * 20000)::integer END;
        SELECT w.word INTO v_word FROM public.bench_words w WHERE w.rank = v_rank;
        v_t0 := clock_timestamp();
        SELECT count(*) INTO v_hits FROM rt.search(v_user, v_word);
        INSERT INTO timings VALUES (extract(epoch FROM clock_timestamp() - v_t0) * 1000, v_hits);
    END LOOP;
END
$q$;
SELECT :'mode' AS words, count(*) AS searches,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2) AS p50_ms,
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms)::numeric, 2) AS p95_ms,
       round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 2) AS p99_ms,
       round(max(ms)::numeric, 2) AS max_ms,
       round(avg(hits), 1) AS mean_results
  FROM timings;
