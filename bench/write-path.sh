#!/usr/bin/env bash
# The write path's figures (docs/benchmarks.md "The write path"): one throwaway cluster with
# synchronous_commit ON (fsync on, defaults), the schema of the given sql/ and migrations/ dirs (so
# the same script measures the code before and after a change on the same machine, minutes apart),
# then:
#   - pgbench: rt.post_message, one per transaction (1 client), and rt.batch of 1, 8, 32, 64 sends
#     (4 clients, 1,000 rooms); commits/s, sends/s, and CPU of all PostgreSQL processes per send;
#   - rt-loadgen: persisted sends in a closed loop (1,000 connections alone in their rooms, one send
#     in flight each) through one and through two bridges; 100 rooms x 10 members at 500 and at
#     1,000 sends/s (CPU per send and per 10,000 deliveries, p99); optionally the ramp.
# Each figure is the median of RUNS runs; the load average is printed before and after each figure.
#
#   bash bench/write-path.sh [--runs N] [--secs S] [--sql-dir DIR --migrations-dir DIR] [--ramp] [--only pgbench|loadgen]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
RUNS=3 SECS=8 RAMP=0 ONLY=""
SQL_DIR=$ROOT/sql MIG_DIR=$ROOT/migrations
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift ;;
    --secs) SECS=$2; shift ;;
    --sql-dir) SQL_DIR=$2; shift ;;
    --migrations-dir) MIG_DIR=$2; shift ;;
    --ramp) RAMP=1 ;;
    --only) ONLY=$2; shift ;;
    *) echo "usage: bench/write-path.sh [--runs N] [--secs S] [--sql-dir DIR --migrations-dir DIR] [--ramp] [--only pgbench|loadgen]" >&2; exit 2 ;;
  esac
  shift
done
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
BRIDGE=$ROOT/build/rt-bridge
LOADGEN=$ROOT/build/bench/loadgen/rt-loadgen
[ -x "$BRIDGE" ] && [ -x "$LOADGEN" ] || { echo "write-path: build first (scripts/build.sh)" >&2; exit 1; }
SECRET=bench-secret-$RANDOM$RANDOM
PGDIR=$(mktemp -d /tmp/pgrt-wbench-XXXXXX)
PGPORT=$(scripts/free-port.sh)
OUT=$(mktemp -d /tmp/pgrt-wbench-out-XXXXXX)
BRIDGE_PIDS=()
cleanup() {
  for p in "${BRIDGE_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  scripts/pg-cluster.sh stop "$PGDIR" >/dev/null 2>&1 || true
  rm -rf "$PGDIR" "$OUT"
}
trap cleanup EXIT
export RT_SQL_DIR=$SQL_DIR RT_MIGRATIONS_DIR=$MIG_DIR
scripts/pg-cluster.sh start "$PGDIR" "$PGPORT" >/dev/null
eval "$(scripts/pg-cluster.sh env "$PGDIR" "$PGPORT")"
"$BRIDGE" migrate --log-level warn >/dev/null
POSTMASTER=$(head -1 "$PGDIR/data/postmaster.pid")
PSQL=(psql -X -q -A -t -v ON_ERROR_STOP=1)
load() { cut -d' ' -f1-3 /proc/loadavg; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : "-")}'; }
echo "write-path: sql $SQL_DIR, synchronous_commit=$("${PSQL[@]}" -c 'SHOW synchronous_commit'), fsync=$("${PSQL[@]}" -c 'SHOW fsync'), $RUNS runs of ${SECS}s"

"${PSQL[@]}" >/dev/null <<'SQL'
CREATE TEMP TABLE sets(p text, rooms int, users int);
INSERT INTO sets VALUES ('h', 100, 1000), ('s', 1000, 1000), ('m', 1000, 1000);
SELECT count(rt.create_room('chat', 'bench_owner', NULL, p || '_r' || r)) FROM sets, generate_series(0, rooms - 1) r;
SELECT count(rt.add_member(p || '_r' || (u % rooms), p || '_u' || u)) FROM sets, generate_series(0, users - 1) u;
SQL

# CPU seconds (user + system) of every PostgreSQL process so far.
pg_cpu() {
  local tck; tck=$(getconf CLK_TCK)
  awk -v t="$tck" '{ s += $14 + $15 } END { printf "%.3f", s / t }' \
    $(for p in $(pgrep -P "$POSTMASTER") "$POSTMASTER"; do echo "/proc/$p/stat"; done) 2>/dev/null
}

if [ "$ONLY" != loadgen ]; then
  cat >"$OUT/post.sql" <<'SQL'
\set r random(0, 999)
SELECT rt.post_message('m_r' || :r, 'm_u' || :r, 'hello, this is a benchmark message');
SQL
  cat >"$OUT/batch.sql" <<'SQL'
\set r random(0, 999)
SELECT count(*) FILTER (WHERE ok) FROM rt.batch('bench_bridge',
    (SELECT jsonb_agg(jsonb_build_object('conn', 'c' || :client_id, 'user', 'm_u' || ((:r + g) % 1000),
                                         'frame', jsonb_build_object('type', 'send', 'room', 'm_r' || ((:r + g) % 1000),
                                                                     'body', 'hello, this is a benchmark message')))
       FROM generate_series(1, :b) g));
SQL
  # pgb NAME CLIENTS SENDS_PER_TX SCRIPT [args]: median commits/s, sends/s, PostgreSQL CPU per send (µs)
  pgb() {
    local name=$1 clients=$2 per=$3 script=$4; shift 4
    local l0; l0=$(load)
    for _ in $(seq "$RUNS"); do
      local c0 c1 out tx
      c0=$(pg_cpu)
      out=$(pgbench -n -M prepared -c "$clients" -j "$(( clients < 2 ? 1 : 2 ))" -T "$SECS" "$@" -f "$script" 2>&1)
      c1=$(pg_cpu)
      tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
      awk -v tx="$tx" -v per="$per" -v s="$SECS" -v c="$(awk -v a="$c0" -v b="$c1" 'BEGIN{print b-a}')" \
        'BEGIN { printf "%.0f %.0f %.1f\n", tx / s, tx * per / s, (tx ? c / (tx * per) * 1e6 : 0) }'
    done >"$OUT/pgb.$name"
    printf "| %s | %d | %s | %s | %s | %s -> %s |\n" "$name" "$clients" \
      "$(cut -d' ' -f1 "$OUT/pgb.$name" | median)" "$(cut -d' ' -f2 "$OUT/pgb.$name" | median)" \
      "$(cut -d' ' -f3 "$OUT/pgb.$name" | median)" "$l0" "$(load)"
  }
  echo
  echo "| pgbench workload | clients | commits/s | sends/s | PostgreSQL CPU per send (µs) | load average before -> after |"
  echo "|---|---:|---:|---:|---:|---|"
  pgb "rt.post_message, one per transaction" 1 1 "$OUT/post.sql"
  pgb "rt.post_message, one per transaction" 4 1 "$OUT/post.sql"
  for b in 1 8 32 64; do
    pgb "rt.batch of $b sends" 4 "$b" "$OUT/batch.sql" -D b="$b"
  done
fi

[ "$ONLY" = pgbench ] && exit 0

start_bridges() {
  local ports=() pids=()
  for _ in $(seq "$1"); do
    local port; port=$(scripts/free-port.sh)
    RT_JWT_SECRET=$SECRET "$BRIDGE" serve --host 127.0.0.1 --port "$port" --log-level warn \
      --max-connections 12000 --rate-limit 1000000 --rate-burst 1000000 ${BATCH_MAX:+--batch-max $BATCH_MAX} >>"$OUT/bridge.log" 2>&1 &
    pids+=($!); BRIDGE_PIDS+=($!); ports+=("$port")
  done
  for port in "${ports[@]}"; do
    for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/health" 2>/dev/null | grep -q '"db":"up"' && break; sleep 0.1; done
  done
  PORTS=$(IFS=,; echo "${ports[*]}"); PIDS=$(IFS=,; echo "${pids[*]}")
}
stop_bridges() {
  for p in ${PIDS//,/ }; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  BRIDGE_PIDS=()
}
lg() {  # lg NAME BRIDGES ARGS...
  local name=$1 n=$2; shift 2
  start_bridges "$n"
  { echo -n "load=$(load | tr ' ' '/') "; "$LOADGEN" --ports "$PORTS" --bridge-pids "$PIDS" --pg-pid "$POSTMASTER" --secret "$SECRET" "$@" 2>>"$OUT/loadgen.log" | tail -1; } >>"$OUT/$name"
  stop_bridges
}
val() { tr ' ' '\n' <"$1" | sed -n "s/^$2=//p" | median; }
loads() { tr ' ' '\n' <"$1" | sed -n 's/^load=//p' | tr '\n' ' '; }
for run in $(seq "$RUNS"); do
  lg closed1 1 --room-prefix s_r --user-prefix s_u --conns 1000 --rooms 1000 --window 1 --duration "$SECS"
  lg closed2 2 --room-prefix s_r --user-prefix s_u --conns 1000 --rooms 1000 --window 1 --duration "$SECS"
  lg rate500 1 --room-prefix h_r --user-prefix h_u --conns 1000 --rooms 100 --rate 500 --duration "$SECS"
  lg rate1000 1 --room-prefix h_r --user-prefix h_u --conns 1000 --rooms 100 --rate 1000 --duration "$SECS"
done
echo
echo "| scenario | acked sends/s | deliveries/s | lost | p50 / p99 ms | PostgreSQL CPU per send | bridge + PostgreSQL CPU per 10,000 deliveries | load averages (1/5/15) of the runs |"
echo "|---|---:|---:|---:|---|---:|---:|---|"
for s in closed1:"closed loop, one bridge:1" closed2:"closed loop, two bridges:1" rate500:"100 rooms × 10, 500 sends/s:10" rate1000:"100 rooms × 10, 1,000 sends/s:10"; do
  f=$OUT/${s%%:*}; rest=${s#*:}; label=${rest%:*}; fan=${rest##*:}
  [ -s "$f" ] || { echo "| $label | - | | | | | | |"; continue; }
  pg=$(val "$f" pg_cpu_per_10k); br=$(val "$f" bridge_cpu_per_10k)
  printf "| %s | %s | %s | %s | %s / %s | %s µs | %s s | %s|\n" "$label" "$(val "$f" sends_per_s)" "$(val "$f" deliveries_per_s)" \
    "$(val "$f" lost)" "$(val "$f" p50_ms)" "$(val "$f" p99_ms)" \
    "$(awk -v p="$pg" -v f="$fan" 'BEGIN { printf "%.0f", p * f * 100 }')" \
    "$(awk -v p="$pg" -v b="$br" 'BEGIN { printf "%.3f", p + b }')" "$(loads "$f")"
done

if [ "$RAMP" = 1 ]; then
  echo
  for nb in 1 2; do
    best=0
    for rate in 1000 1500 2000 3000 4000 6000 8000; do
      rm -f "$OUT/step"
      lg step "$nb" --room-prefix h_r --user-prefix h_u --conns 1000 --rooms 100 --rate "$rate" --duration 5 --drain 3
      line=$(tail -1 "$OUT/step")
      ok=$(awk '{for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }}
                END { print (v["send_err"] == 0 && v["unanswered"] == 0 && v["lost"] == 0 && v["p99_ms"] < 100 && v["sent"] > 0) }' <<<"$line")
      echo "ramp, $nb bridge(s): $rate sends/s -> $(tr ' ' '\n' <<<"$line" | grep -E '^(load|sends_per_s|p99_ms|lost)=' | tr '\n' ' ')"
      [ "$ok" = 1 ] && best=$rate || break
    done
    echo "ramp, $nb bridge(s): highest passing step $best sends/s"
  done
fi
