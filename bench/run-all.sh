#!/usr/bin/env bash
# Every bridge benchmark, from a fresh clone, with one command: builds, starts a throwaway PostgreSQL
# cluster, creates the rooms, runs each scenario RUNS times with rt-loadgen against fresh bridges,
# takes medians, and rewrites the results section of docs/benchmarks.md (between the
# `<!-- results:begin -->` and `<!-- results:end -->` markers).
#
#   bash bench/run-all.sh            # 3 runs per scenario, ~25 minutes
#   bash bench/run-all.sh --quick    # 1 short run per scenario, a few minutes
#   options: --runs N, --no-doc (print the section instead of writing it), --keep (leave the cluster)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

RUNS=3 QUICK=0 WRITE_DOC=1 KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1; RUNS=1 ;;
    --runs) RUNS=$2; shift ;;
    --no-doc) WRITE_DOC=0 ;;
    --keep) KEEP=1 ;;
    *) echo "usage: bench/run-all.sh [--quick] [--runs N] [--no-doc] [--keep]" >&2; exit 2 ;;
  esac
  shift
done
if [ "$QUICK" = 1 ]; then SECS=3 STEP_SECS=3 PGB_SECS=3; else SECS=10 STEP_SECS=5 PGB_SECS=10; fi

log() { echo "run-all: $*" >&2; }

# Every connection is a descriptor, in the generator and in the bridge.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge 10100 ] || { echo "run-all: need 10100+ file descriptors, the limit is $(ulimit -n)" >&2; exit 1; }

log "installing what is missing, building"
scripts/deps.sh --build-only >/dev/null # a fresh machine has none of the libraries
scripts/build.sh >/dev/null
BRIDGE=$ROOT/build/rt-bridge
LOADGEN=$ROOT/build/bench/loadgen/rt-loadgen
SECRET=bench-secret-$RANDOM$RANDOM

PGDIR=${BENCH_PG_DIR:-$(mktemp -d /tmp/pgrt-bench-XXXXXX)}
PGPORT=$(scripts/free-port.sh)
OUT=$(mktemp -d /tmp/pgrt-bench-out-XXXXXX)
BRIDGE_PIDS=()
cleanup() {
  for p in "${BRIDGE_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ "$KEEP" = 0 ]; then
    scripts/pg-cluster.sh stop "$PGDIR" || true
    rm -rf "$PGDIR"
  fi
  rm -rf "$OUT"
}
trap cleanup EXIT

log "PostgreSQL cluster in $PGDIR, port $PGPORT"
scripts/pg-cluster.sh start "$PGDIR" "$PGPORT" >/dev/null
eval "$(scripts/pg-cluster.sh env "$PGDIR" "$PGPORT")"
"$BRIDGE" migrate --log-level warn >/dev/null
POSTMASTER=$(head -1 "$PGDIR/data/postmaster.pid")
PSQL=(psql -X -q -A -t -v ON_ERROR_STOP=1)

# Rooms and members, all in one script. User <p>_u<i> is a member of room <p>_r<i mod R>.
log "creating rooms and members"
"${PSQL[@]}" >/dev/null <<'SQL'
CREATE TEMP TABLE sets(p text, rooms int, users int);
INSERT INTO sets VALUES ('h', 100, 1000),     -- 100 rooms x 10 members
                        ('i', 1000, 10000),   -- idle: 1,000 rooms x 10 members
                        ('b', 1, 5000),       -- one room of 5,000 members
                        ('s', 1000, 1000);    -- persisted sends: 1,000 rooms of one member
SELECT count(rt.create_room('chat', 'bench_owner', NULL, p || '_r' || r)) FROM sets, generate_series(0, rooms - 1) r;
SELECT count(rt.add_member(p || '_r' || (u % rooms), p || '_u' || u)) FROM sets, generate_series(0, users - 1) u;
SQL

# start_bridges N: N bridges on free ports -> PORTS, PIDS (comma lists)
start_bridges() {
  local ports=() pids=()
  for _ in $(seq "$1"); do
    local port
    port=$(scripts/free-port.sh)
    RT_JWT_SECRET=$SECRET "$BRIDGE" serve --host 127.0.0.1 --port "$port" --log-level warn \
      --max-connections 12000 --rate-limit 1000000 --rate-burst 1000000 >>"$OUT/bridge.log" 2>&1 &
    pids+=($!)
    BRIDGE_PIDS+=($!)
    ports+=("$port")
  done
  for port in "${ports[@]}"; do
    for _ in $(seq 100); do
      curl -fs "http://127.0.0.1:$port/health" 2>/dev/null | grep -q '"db":"up"' && break
      sleep 0.1
    done
  done
  PORTS=$(IFS=,; echo "${ports[*]}")
  PIDS=$(IFS=,; echo "${pids[*]}")
}

stop_bridges() {
  for p in ${PIDS//,/ }; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  BRIDGE_PIDS=()
}

# lg NAME BRIDGES ARGS...: one run against fresh bridges; its key=value line goes to $OUT/NAME
lg() {
  local name=$1 nbridges=$2; shift 2
  start_bridges "$nbridges"
  "$LOADGEN" --ports "$PORTS" --bridge-pids "$PIDS" --pg-pid "$POSTMASTER" --secret "$SECRET" "$@" \
    >>"$OUT/$name" 2>>"$OUT/loadgen.log" || log "$name: rt-loadgen failed"
  stop_bridges
}

# val FILE KEY: the median of KEY over the lines of FILE
val() {
  [ -s "$1" ] || { echo "-"; return; }
  tr ' ' '\n' <"$1" | sed -n "s/^$2=//p" | sort -g | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : "-")}'
}

# ok LINE: a ramp step passes with every send acknowledged and delivered, p99 under 100 ms
step_ok() {
  awk '{for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }}
       END { exit !(v["send_err"] == 0 && v["unanswered"] == 0 && v["lost"] == 0 && v["connect_fail"] == 0 &&
                    v["closed_early"] == 0 && v["p99_ms"] < 100 && v["sent"] > 0) }' <<<"$1"
}

# ramp NAME BRIDGES: raises the send rate on 100 rooms x 10 members until a step fails; the best
# passing step of each run goes to $OUT/NAME
ramp() {
  local name=$1 nbridges=$2
  for run in $(seq "$RUNS"); do
    local best=""
    for rate in 250 500 1000 1500 2000 3000 4000 6000 8000 12000 16000 24000 32000; do
      lg "$name.step" "$nbridges" --room-prefix h_r --user-prefix h_u --conns 1000 --rooms 100 \
        --rate "$rate" --duration "$STEP_SECS" --drain 3
      local line
      line=$(tail -1 "$OUT/$name.step")
      log "$name run $run: $rate sends/s -> $(tr ' ' '\n' <<<"$line" | grep -E '^(p99_ms|lost|sends_per_s)=' | tr '\n' ' ')"
      if step_ok "$line"; then best="rate=$rate $line"; else break; fi
    done
    [ -n "$best" ] && echo "$best" >>"$OUT/$name"
  done
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
STARTED=$(date -u +%FT%TZ)

for run in $(seq "$RUNS"); do
  log "idle connections, run $run/$RUNS"
  lg idle1k 1 --room-prefix h_r --user-prefix h_u --conns 1000 --rooms 100 --duration 3
  lg idle10k 1 --room-prefix i_r --user-prefix i_u --conns 10000 --rooms 1000 --duration 3
  log "100 rooms x 10 members at 100 and 1,000 sends/s, run $run/$RUNS"
  lg rate100 1 --room-prefix h_r --user-prefix h_u --conns 1000 --rooms 100 --rate 100 --duration "$SECS"
  lg rate1000 1 --room-prefix h_r --user-prefix h_u --conns 1000 --rooms 100 --rate 1000 --duration "$SECS"
  log "one room of 5,000 members, run $run/$RUNS"
  # 5,000 joins into one room take long (each join reply lists everyone online, and presence
  # reaches everyone): the joins get up to 5 minutes, then the sends wait for a quiet second.
  lg fanout60 1 --room-prefix b_r --user-prefix b_u --conns 5000 --rooms 1 --senders 10 --rate 60 \
    --duration "$SECS" --join-timeout 300 --body-bytes 48
  log "persisted sends ceiling (closed loop), run $run/$RUNS"
  lg sends 1 --room-prefix s_r --user-prefix s_u --conns 1000 --rooms 1000 --window 1 --duration "$SECS"
done
log "ramp, one bridge"
ramp ramp1 1
log "ramp, two bridges"
ramp ramp2 2
log "pgbench: the database ceiling"
PGB_RUNS=$RUNS
bash bench/pgbench/run.sh "$PGB_SECS" "$PGB_RUNS" >"$OUT/pgbench" 2>>"$OUT/loadgen.log" || log "pgbench failed"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

kib() { awk -v b="$1" 'BEGIN { if (b == "-") print "-"; else printf "%.1f", b / 1024 }'; }
num() { awk -v x="$1" 'BEGIN { if (x == "-") print "-"; else printf "%\047.0f", x }'; }
row() { # row LABEL FILE: one line of the detailed table
  local f=$OUT/$2
  echo "| $1 | $(val "$f" connected) | $(val "$f" connect_fail) | $(num "$(val "$f" sends_per_s)") | $(num "$(val "$f" deliveries_per_s)") |" \
       "$(val "$f" lost) / $(val "$f" dup) / $(val "$f" ooo) | $(val "$f" p50_ms) / $(val "$f" p95_ms) / $(val "$f" p99_ms) / $(val "$f" max_ms) |" \
       "$(num "$(val "$f" bridge_rss_kib)") | $(kib "$(val "$f" bridge_rss_per_conn_b)") | $(val "$f" bridge_cpu_per_10k) | $(val "$f" pg_cpu_per_10k) |" \
       "$(val "$f" gen_cpu_pct) % |"
}
met() { awk -v a="$1" -v b="$2" -v op="$3" 'BEGIN { if (a == "-") print "no data"; else if ((op == "<" && a + 0 < b + 0) || (op == ">=" && a + 0 >= b + 0)) print "**met**"; else print "**missed**" }'; }

{
  echo "<!-- results:begin -->"
  echo "_Written by \`bash bench/run-all.sh$([ "$QUICK" = 1 ] && echo " --quick") --runs $RUNS\` on $STARTED; do not edit by hand._"
  echo
  echo "**Machine**: $(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo),"\
       "Linux $(uname -r); load average (1/5/15 min) $LOAD_BEFORE before, $LOAD_AFTER after (other jobs share the machine)."
  echo "**Versions**: PostgreSQL $("${PSQL[@]}" -c 'SHOW server_version'), libwebsockets $(pkg-config --modversion libwebsockets | sed 's/-$//'),"\
       "libpq $(pkg-config --modversion libpq), $(gcc --version | head -1), $("$BRIDGE" --version 2>&1 | head -1)."
  echo "**Method**: a throwaway cluster from \`scripts/pg-cluster.sh\` (fsync on, synchronous_commit on, defaults);"\
       "one fresh bridge per run (\`--rate-limit\`/\`--rate-burst\` 1,000,000, \`--max-connections\` 12,000, other settings default);"\
       "\`rt-loadgen\` on the same 2 CPUs; each figure is the median of $RUNS run(s); sending phases last ${SECS} s (ramp steps ${STEP_SECS} s)."
  echo
  echo "| target | scenario | measured (median) | |"
  echo "|---|---|---:|---|"
  echo "| bridge RSS < 10 KiB per connection | 10,000 idle connections joined to 1,000 rooms | $(kib "$(val "$OUT/idle10k" bridge_rss_per_conn_b)") KiB ($(val "$OUT/idle10k" connected) connected) | $(met "$(kib "$(val "$OUT/idle10k" bridge_rss_per_conn_b)")" 10 "<") |"
  echo "| p99 < 5 ms at 10,000 deliveries/s | 100 rooms × 10 members, 1,000 sends/s | p99 $(val "$OUT/rate1000" p99_ms) ms at $(num "$(val "$OUT/rate1000" deliveries_per_s)") deliveries/s | $(met "$(val "$OUT/rate1000" p99_ms)" 5 "<") |"
  echo "| ≥ 30,000 acknowledged persisted sends/s | 1,000 connections in their own rooms, one send in flight each | $(num "$(val "$OUT/sends" sends_per_s)") sends/s | $(met "$(val "$OUT/sends" sends_per_s)" 30000 ">=") |"
  echo "| ≥ 300,000 deliveries/s of small events | one room of 5,000 members, 60 sends/s | $(num "$(val "$OUT/fanout60" deliveries_per_s)") deliveries/s (p99 $(val "$OUT/fanout60" p99_ms) ms, lost $(val "$OUT/fanout60" lost)) | $(met "$(val "$OUT/fanout60" deliveries_per_s)" 300000 ">=") |"
  echo "| highest rate, p99 < 100 ms, no loss | ramp on 100 rooms × 10 members, one bridge | $(num "$(val "$OUT/ramp1" rate)") sends/s, $(num "$(val "$OUT/ramp1" deliveries_per_s)") deliveries/s | |"
  echo "| the same | two bridges, members spread over both | $(num "$(val "$OUT/ramp2" rate)") sends/s, $(num "$(val "$OUT/ramp2" deliveries_per_s)") deliveries/s | |"
  echo
  echo "Every scenario (medians; latency is send → delivery at every member, in ms; CPU is seconds per 10,000 deliveries;"\
       "loss counts acknowledged sends not delivered to every member; \"gen\" is the generator's own CPU, 100 % = one core):"
  echo
  echo "| scenario | connected | connect failures | acked sends/s | deliveries/s | lost / dup / out of order | p50 / p95 / p99 / max | bridge RSS KiB | per connection KiB | bridge CPU | PostgreSQL CPU | gen |"
  echo "|---|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|"
  row "1,000 idle connections (100 rooms)" idle1k
  row "10,000 idle connections (1,000 rooms)" idle10k
  row "100 rooms × 10, 100 sends/s" rate100
  row "100 rooms × 10, 1,000 sends/s" rate1000
  row "1 room × 5,000, 60 sends/s" fanout60
  row "persisted sends, closed loop (1,000 × 1 in flight)" sends
  row "ramp, one bridge: best step" ramp1
  row "ramp, two bridges: best step" ramp2
  echo
  echo "The database ceiling on this run (\`bench/pgbench/run.sh $PGB_SECS $PGB_RUNS\`):"
  echo
  sed -n '/^|/p' "$OUT/pgbench"
  echo "<!-- results:end -->"
} >"$OUT/section.md"

if [ "$WRITE_DOC" = 1 ]; then
  doc=docs/benchmarks.md
  if grep -q '<!-- results:begin -->' "$doc"; then
    awk -v f="$OUT/section.md" '
      /<!-- results:begin -->/ { while ((getline l < f) > 0) print l; skip = 1; next }
      /<!-- results:end -->/ { skip = 0; next }
      !skip' "$doc" >"$OUT/doc.md"
    cp "$OUT/doc.md" "$doc"
  else
    { echo; echo "## Bridge results"; echo; cat "$OUT/section.md"; } >>"$doc"
  fi
  log "wrote $doc"
fi
cat "$OUT/section.md"
