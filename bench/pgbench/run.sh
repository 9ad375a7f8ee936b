#!/usr/bin/env bash
# The database ceiling (not a test): pgbench throughput of rt.post_message with 1, 4 and 16 clients
# on one room and on many rooms, and of rt.batch with batches of 1, 8 and 32 commands. Each figure is
# the median of RUNS runs of SECONDS seconds. Prints a Markdown table; docs/benchmarks.md records it.
#
#   PG* environment -> a migrated pgrt database, as its owner (creates bench_* rooms once)
#   bash bench/pgbench/run.sh [SECONDS] [RUNS]
set -euo pipefail

SECONDS_PER_RUN=${1:-10}
RUNS=${2:-3}
ROOMS=1000
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
PSQL=(psql -X -q -A -t -v ON_ERROR_STOP=1)

# Rooms: bench_one, and bench_m_1 .. bench_m_1000, each with members u0 .. u15.
"${PSQL[@]}" >/dev/null <<SQL
SELECT rt.create_room('chat', 'bench_owner', NULL, id)
  FROM (SELECT 'bench_one' AS id UNION ALL SELECT 'bench_m_' || n FROM generate_series(1, $ROOMS) n) r
 WHERE NOT EXISTS (SELECT 1 FROM rt.rooms x WHERE x.id = r.id);
SELECT rt.add_member(r.id, 'u' || u)
  FROM (SELECT 'bench_one' AS id UNION ALL SELECT 'bench_m_' || n FROM generate_series(1, $ROOMS) n) r,
       generate_series(0, 15) u
 WHERE rt.member_role(r.id, 'u' || u) IS NULL;
SQL

cat >"$tmp/one_room.sql" <<'SQL'
SELECT rt.post_message('bench_one', 'u' || (:client_id % 16), 'hello, this is a benchmark message');
SQL
cat >"$tmp/many_rooms.sql" <<SQL
\set r random(1, $ROOMS)
SELECT rt.post_message('bench_m_' || :r, 'u' || (:client_id % 16), 'hello, this is a benchmark message');
SQL
# A batch of :b sends from one bridge, to :b consecutive rooms starting at a random one.
cat >"$tmp/batch.sql" <<SQL
\set r random(1, $ROOMS)
SELECT count(*) FILTER (WHERE ok) FROM rt.batch('bench_bridge',
    (SELECT jsonb_agg(jsonb_build_object('conn', 'c' || :client_id, 'user', 'u' || (:client_id % 16),
                                         'frame', jsonb_build_object('type', 'send', 'room', 'bench_m_' || ((:r + g) % $ROOMS + 1),
                                                                     'body', 'hello, this is a benchmark message')))
       FROM generate_series(1, :b) g));
SQL

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

tps_of() {  # tps_of SCRIPT CLIENTS [pgbench -D args...] -> median tps
  local script=$1 clients=$2; shift 2
  for _ in $(seq "$RUNS"); do
    pgbench -n -M prepared -c "$clients" -j "$(( clients < 2 ? 1 : 2 ))" -T "$SECONDS_PER_RUN" "$@" -f "$script" 2>&1 |
      sed -n 's/^tps = \([0-9.]*\).*/\1/p'
  done | median
}

echo "PostgreSQL: $("${PSQL[@]}" -c "SELECT current_setting('server_version')"), fsync=$("${PSQL[@]}" -c 'SHOW fsync'),"\
     "synchronous_commit=$("${PSQL[@]}" -c 'SHOW synchronous_commit'), $(nproc) CPUs; median of $RUNS x ${SECONDS_PER_RUN}s"
echo
echo "| workload | clients | commits/s | messages/s |"
echo "|---|---:|---:|---:|"
for c in 1 4 16; do
  t=$(tps_of "$tmp/one_room.sql" "$c")
  printf "| post_message, one room | %d | %.0f | %.0f |\n" "$c" "$t" "$t"
done
for c in 1 4 16; do
  t=$(tps_of "$tmp/many_rooms.sql" "$c")
  printf "| post_message, %d rooms | %d | %.0f | %.0f |\n" "$ROOMS" "$c" "$t" "$t"
done
for b in 1 8 32; do
  t=$(tps_of "$tmp/batch.sql" 4 -D b="$b")
  printf "| batch of %d sends, %d rooms | 4 | %.0f | %.0f |\n" "$b" "$ROOMS" "$t" "$(echo "$t $b" | awk '{print $1 * $2}')"
done
