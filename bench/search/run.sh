#!/usr/bin/env bash
# Search benchmark (not a test; docs/benchmarks.md "Search"): 1,000,000 messages in 1,000 rooms, 500
# users in ~20 rooms each; one-word searches across every room a user may read. Generates the data
# once (bench/search/generate.sql; skipped when the rooms exist), then runs RUNS rounds of N searches
# for Zipf-drawn and for uniformly drawn words and prints each round and the median p50/p95/p99.
#
#   PG* environment -> a migrated pgrt database, as its owner (a scratch one: it adds 1,000,000 rows)
#   bash bench/search/run.sh [N] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-300}
RUNS=${2:-3}
PSQL=(psql -X -q -A -t -v ON_ERROR_STOP=1)

if [ "$("${PSQL[@]}" -c "SELECT count(*) FROM rt.rooms WHERE id LIKE 'sb\_%'")" = 0 ]; then
  start=$(date +%s)
  psql -X -q -v rooms=1000 -v per_room=1000 -v users=500 -v members=10 -f bench/search/generate.sql
  echo "generated in $(( $(date +%s) - start )) s"
fi
"${PSQL[@]}" -c "SELECT 'data: ' || (SELECT count(*) FROM rt.messages m WHERE m.room LIKE 'sb\_%') || ' messages in '
                  || (SELECT count(*) FROM rt.rooms WHERE id LIKE 'sb\_%') || ' rooms; index '
                  || pg_size_pretty(pg_relation_size('rt.messages_search_idx'))"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for mode in zipf uniform; do
  for _ in $(seq "$RUNS"); do
    psql -X -q -A -t -F ' ' -v n="$N" -v mode="$mode" -f bench/search/query.sql
  done | awk -v mode="$mode" '
    { print "round: " $0 " (words searches p50 p95 p99 max mean_results)"; p50[NR]=$3; p95[NR]=$4; p99[NR]=$5 }
    function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
                                    return a[int((n + 1) / 2)] }
    END { printf "median of %d rounds, %s words: p50 %s ms, p95 %s ms, p99 %s ms\n", NR, mode, med(p50, NR), med(p95, NR), med(p99, NR) }'
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
