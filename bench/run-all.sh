#!/usr/bin/env bash
# Every bridge benchmark, from a fresh clone, with one command: builds, starts a throwaway PostgreSQL
# cluster, creates the rooms, runs each scenario RUNS times with rt-loadgen against fresh bridges,
# takes medians, and rewrites the results section of docs/benchmarks.md (between the
# `<!-- results:begin -->` and `<!-- results:end -->` markers).
#
#   bash bench/run-all.sh            # 3 runs per scenario, ~25 minutes
#   bash bench/run-all.sh --quick    # 1 short run per scenario, a few minutes
#   bash bench/run-all.sh --only rooms   # only the large-room scenarios (join storms, 5,000-member fan-out
#                                        # and its ramp); writes only their section (rooms:begin/end)
#   options: --runs N, --no-doc (print the section instead of writing it), --keep (leave the cluster)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

RUNS=3 QUICK=0 WRITE_DOC=1 KEEP=0 ONLY=all
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1; RUNS=1 ;;
    --runs) RUNS=$2; shift ;;
    --no-doc) WRITE_DOC=0 ;;
    --keep) KEEP=1 ;;
    --only) ONLY=$2; shift; [ "$ONLY" = rooms ] || { echo "run-all: --only takes: rooms" >&2; exit 2; } ;;
    *) echo "usage: bench/run-all.sh [--quick] [--runs N] [--no-doc] [--keep] [--only rooms]" >&2; exit 2 ;;
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
                        ('k', 1, 10000),      -- one room of 10,000 members (join storm)
                        ('s', 1000, 1000);    -- persisted sends: 1,000 rooms of one member
SELECT count(rt.create_room('chat', 'bench_owner', NULL, p || '_r' || r)) FROM sets, generate_series(0, rooms - 1) r;
SELECT count(rt.add_member(p || '_r' || (u % rooms), p || '_u' || u)) FROM sets, generate_series(0, users - 1) u;
SQL
# What the setup wrote is not the first run's cost: planner statistics for the new rows (the first join
# storm otherwise ran on plans for empty tables, while autovacuum analyzed them under it) and its dirty
# pages written out (a checkpoint during a run stalls its commits).
"${PSQL[@]}" -c 'VACUUM ANALYZE' -c 'CHECKPOINT' >/dev/null

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
  cut -d' ' -f1 /proc/loadavg >>"$OUT/load" # the 1-minute load average as each run starts
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
    if [ -n "$best" ]; then echo "$best" >>"$OUT/$name"; fi
  done
}

# ramp_big NAME: raises the send rate in the 5,000-member room (10 senders) until a step fails; the
# best passing step of each run goes to $OUT/NAME. Each step is a fresh bridge and a fresh join storm.
ramp_big() {
  local name=$1
  for run in $(seq "$RUNS"); do
    local best=""
    for rate in 10 20 30 40 60 80 120 160 240 320; do
      lg "$name.step" 1 --room-prefix b_r --user-prefix b_u --conns 5000 --rooms 1 --senders 10 --rate "$rate" \
        --duration "$STEP_SECS" --drain 3 --join-timeout 120 --connect-rate 100000 --body-bytes 48
      local line
      line=$(tail -1 "$OUT/$name.step")
      log "$name run $run: $rate sends/s -> $(tr ' ' '\n' <<<"$line" | grep -E '^(p99_ms|lost|sends_per_s|deliveries_per_s)=' | tr '\n' ' ')"
      if step_ok "$line"; then best="rate=$rate $line"; else echo "rate=$rate $line" >>"$OUT/$name.fail"; break; fi
    done
    if [ -n "$best" ]; then echo "$best" >>"$OUT/$name"; fi
  done
}

# The large-room scenarios (docs/benchmarks.md "Large rooms"): N members join one room at once (all
# connects started together: time to every join reply, bytes of the replies, bridge RSS per
# connection), deliveries in a 5,000-member room, and the ramp.
large_rooms() {
  for run in $(seq "$RUNS"); do
    log "join storms (5,000 and 10,000 members at once), run $run/$RUNS"
    lg storm5k 1 --room-prefix b_r --user-prefix b_u --conns 5000 --rooms 1 --connect-rate 100000 --duration 1 --join-timeout 120
    lg storm10k 1 --room-prefix k_r --user-prefix k_u --conns 10000 --rooms 1 --connect-rate 100000 --duration 1 --join-timeout 180
    log "one room of 5,000 members at 80 sends/s (400,000 deliveries/s offered), run $run/$RUNS"
    lg fanout80 1 --room-prefix b_r --user-prefix b_u --conns 5000 --rooms 1 --senders 10 --rate 80 \
      --duration "$SECS" --join-timeout 120 --connect-rate 100000 --body-bytes 48
  done
  log "ramp in the 5,000-member room"
  ramp_big rampbig
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
STARTED=$(date -u +%FT%TZ)

[ "$ONLY" = rooms ] || for run in $(seq "$RUNS"); do
  log "idle connections, run $run/$RUNS"
  lg idle1k 1 --room-prefix h_r --user-prefix h_u --conns 1000 --rooms 100 --duration 3
  lg idle10k 1 --room-prefix i_r --user-prefix i_u --conns 10000 --rooms 1000 --duration 3
  log "100 rooms x 10 members at 100 and 1,000 sends/s, run $run/$RUNS"
  lg rate100 1 --room-prefix h_r --user-prefix h_u --conns 1000 --rooms 100 --rate 100 --duration "$SECS"
  lg rate1000 1 --room-prefix h_r --user-prefix h_u --conns 1000 --rooms 100 --rate 1000 --duration "$SECS"
  log "persisted sends ceiling (closed loop), run $run/$RUNS"
  lg sends 1 --room-prefix s_r --user-prefix s_u --conns 1000 --rooms 1000 --window 1 --duration "$SECS"
done
if [ "$ONLY" = all ]; then
  log "ramp, one bridge"
  ramp ramp1 1
  log "ramp, two bridges"
  ramp ramp2 2
  log "pgbench: the database ceiling"
  PGB_RUNS=$RUNS
  bash bench/pgbench/run.sh "$PGB_SECS" "$PGB_RUNS" >"$OUT/pgbench" 2>>"$OUT/loadgen.log" || log "pgbench failed"
fi
large_rooms
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

MACHINE="**Machine**: $(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), Linux $(uname -r); load average (1/5/15 min) $LOAD_BEFORE before, $LOAD_AFTER after; 1-minute load as each run started: median $(sort -g "$OUT/load" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}') (min $(sort -g "$OUT/load" | head -1), max $(sort -g "$OUT/load" | tail -1)). Other jobs share the machine: a load above 2 means every process waited for a CPU."

[ "$ONLY" = all ] && {
  echo "<!-- results:begin -->"
  echo "_Written by \`bash bench/run-all.sh$([ "$QUICK" = 1 ] && echo " --quick") --runs $RUNS\` on $STARTED; do not edit by hand._"
  echo
  echo "$MACHINE"
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
  echo "| ≥ 300,000 deliveries/s of small events | one room of 5,000 members, 80 sends/s (400,000 offered) | $(num "$(val "$OUT/fanout80" deliveries_per_s)") deliveries/s (p99 $(val "$OUT/fanout80" p99_ms) ms, lost $(val "$OUT/fanout80" lost)) | $(met "$(val "$OUT/fanout80" deliveries_per_s)" 300000 ">=") |"
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
  row "1 room × 5,000, 80 sends/s" fanout80
  row "persisted sends, closed loop (1,000 × 1 in flight)" sends
  row "ramp, one bridge: best step" ramp1
  row "ramp, two bridges: best step" ramp2
  echo
  echo "The database ceiling on this run (\`bench/pgbench/run.sh $PGB_SECS $PGB_RUNS\`):"
  echo
  sed -n '/^|/p' "$OUT/pgbench"
  echo "<!-- results:end -->"
} >"$OUT/section.md"

# The large-room section: join storms, fan-out and ramp in one room.
storm_row() { # storm_row LABEL FILE
  local f=$OUT/$2
  echo "| $1 | $(val "$f" connected) | $(num "$(val "$f" join_all_ms)") | $(num "$(val "$f" join_reply_bytes)") | $(num "$(val "$f" presence_frames)") |" \
       "$(val "$f" last_occupancy) | $(kib "$(val "$f" bridge_rss_per_conn_b)") | $(val "$f" join_bridge_cpu_s) | $(val "$f" join_pg_cpu_s) |"
}
mb() { awk -v b="$1" 'BEGIN { if (b == "-") print "-"; else printf "%.2f", b / 1e6 }'; }
{
  echo "<!-- rooms:begin -->"
  echo "_Written by \`bash bench/run-all.sh$([ "$QUICK" = 1 ] && echo " --quick") --runs $RUNS$([ "$ONLY" = rooms ] && echo " --only rooms")\` on $STARTED; do not edit by hand._"
  echo
  echo "$MACHINE"
  echo "**Method**: as above; one fresh bridge per run; the N clients start connecting at once (\`--connect-rate 100000\`,"\
       "at most 512 handshakes in flight) and each joins on its welcome; each figure is the median of $RUNS run(s)."
  echo
  echo "| target | scenario | measured (median) | |"
  echo "|---|---|---:|---|"
  echo "| < 5 s | 5,000 members join one room at once: connect + join, every reply received | $(num "$(val "$OUT/storm5k" join_all_ms)") ms | $(met "$(val "$OUT/storm5k" join_all_ms)" 5000 "<") |"
  echo "| < 10 s | 10,000 members join one room at once | $(num "$(val "$OUT/storm10k" join_all_ms)") ms ($(val "$OUT/storm10k" connected) joined) | $(met "$(val "$OUT/storm10k" join_all_ms)" 10000 "<") |"
  echo "| bridge RSS < 10 KiB per connection | the same, 10,000 joined | $(kib "$(val "$OUT/storm10k" bridge_rss_per_conn_b)") KiB | $(met "$(kib "$(val "$OUT/storm10k" bridge_rss_per_conn_b)")" 10 "<") |"
  echo "| < 5 MB | bytes of all join replies, 5,000 joins | $(mb "$(val "$OUT/storm5k" join_reply_bytes)") MB | $(met "$(val "$OUT/storm5k" join_reply_bytes)" 5000000 "<") |"
  echo "| ≥ 300,000 deliveries/s, no loss | one room of 5,000 members, 10 senders, 80 sends/s (400,000 offered) | $(num "$(val "$OUT/fanout80" deliveries_per_s)") deliveries/s (p99 $(val "$OUT/fanout80" p99_ms) ms, lost $(val "$OUT/fanout80" lost)) | $(met "$(val "$OUT/fanout80" deliveries_per_s)" 300000 ">=") |"
  if [ -s "$OUT/rampbig" ]; then
    echo "| ≥ 30 sends/s with p99 < 100 ms, no loss | ramp in the 5,000-member room (10, 20, 30, 40, 60, 80, 120, 160, 240, 320 sends/s) | $(num "$(val "$OUT/rampbig" rate)") sends/s ($(num "$(val "$OUT/rampbig" deliveries_per_s)") deliveries/s, p99 $(val "$OUT/rampbig" p99_ms) ms); first failing step: $(val "$OUT/rampbig.fail" rate) sends/s, p99 $(val "$OUT/rampbig.fail" p99_ms) ms | $(met "$(val "$OUT/rampbig" rate)" 30 ">=") |"
  else
    echo "| ≥ 30 sends/s with p99 < 100 ms, no loss | ramp in the 5,000-member room (10, 20, 30, 40, 60, 80, 120, 160, 240, 320 sends/s) | no step passed: at $(val "$OUT/rampbig.fail" rate) sends/s p99 $(val "$OUT/rampbig.fail" p99_ms) ms, lost $(val "$OUT/rampbig.fail" lost) | **missed** |"
  fi
  echo
  echo "Join storms (medians; presence frames are every \`presence\`, \`presence_batch\` and \`occupancy\` frame all members received until the room was quiet; CPU is seconds from the first connect until quiet):"
  echo
  echo "| members | joined | all replies (ms) | join reply bytes | presence frames | last occupancy seen | bridge RSS per connection KiB | bridge CPU s | PostgreSQL CPU s |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  storm_row "5,000" storm5k
  storm_row "10,000" storm10k
  echo
  echo "| scenario | connected | connect failures | acked sends/s | deliveries/s | lost / dup / out of order | p50 / p95 / p99 / max | bridge RSS KiB | per connection KiB | bridge CPU | PostgreSQL CPU | gen |"
  echo "|---|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|"
  row "1 room × 5,000, 80 sends/s" fanout80
  row "ramp in the 5,000-member room: best step" rampbig
  row "ramp in the 5,000-member room: first failing step" rampbig.fail
  echo "<!-- rooms:end -->"
} >"$OUT/rooms.md"

# splice BEGIN END FILE: replaces the doc's lines between the markers (or appends the file)
splice() {
  local doc=docs/benchmarks.md
  if grep -q "$1" "$doc"; then
    awk -v f="$3" -v b="$1" -v e="$2" '
      $0 ~ b { while ((getline l < f) > 0) print l; skip = 1; next }
      $0 ~ e { skip = 0; next }
      !skip' "$doc" >"$OUT/doc.md"
    cp "$OUT/doc.md" "$doc"
  else
    { echo; cat "$3"; } >>"$doc"
  fi
}
if [ "$WRITE_DOC" = 1 ]; then
  [ "$ONLY" = all ] && splice '<!-- results:begin -->' '<!-- results:end -->' "$OUT/section.md"
  splice '<!-- rooms:begin -->' '<!-- rooms:end -->' "$OUT/rooms.md"
  log "wrote docs/benchmarks.md"
fi
[ "$ONLY" = all ] && cat "$OUT/section.md"
cat "$OUT/rooms.md"
