#!/usr/bin/env bash
# NOTIFY channel layout benchmark (not a test): how many notifying commits per second the database
# sustains, and what the listeners' backends spend, when each listener LISTENs to 1, 17 (pgrt's
# layout: 16 room channels + rt_system), 1000 or 10000 channels (a channel per room) and every
# notification goes to one of them at random.
#
#   PG* environment -> any database; run on the database host (reads /proc of the backends)
#   bash bench/pgbench/channels.sh [LISTENERS] [SECONDS] [RUNS]
set -euo pipefail

LISTENERS=${1:-4}
SECONDS_PER_RUN=${2:-8}
RUNS=${3:-3}
CLIENTS=${CHANNELS_CLIENTS:-4}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cc -O2 -o "$tmp/listen_drain" "$here/listen_drain.c" -I"$(pg_config --includedir)" -lpq

cat >"$tmp/notify.sql" <<'SQL'
SELECT pg_notify('bench_ch_' || floor(random() * :k)::int, repeat('x', 300));
SQL

backend_cpu_ticks() {  # summed utime+stime of the listeners' backends
  local pids
  pids=$(psql -X -A -t -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'listen_drain'")
  local total=0
  for p in $pids; do
    set -- $(cut -d' ' -f14,15 "/proc/$p/stat")
    total=$((total + $1 + $2))
  done
  echo "$total"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf "%-9s %-12s %-14s %-22s %s\n" channels "commits/s" "delivered/s" "listener CPU ms/1000" "all delivered"
for k in 1 17 1000 10000; do
  : >"$tmp/tps.$k"; : >"$tmp/cpu.$k"; : >"$tmp/deliv.$k"; complete=yes
  for run in $(seq "$RUNS"); do
    pids=()
    for l in $(seq "$LISTENERS"); do
      PGAPPNAME=listen_drain "$tmp/listen_drain" bench_ch_ "$k" $((SECONDS_PER_RUN + 4)) >"$tmp/l.$l" &
      pids+=($!)
    done
    for l in $(seq "$LISTENERS"); do
      until grep -q ready "$tmp/l.$l" 2>/dev/null; do sleep 0.05; done
    done
    cpu0=$(backend_cpu_ticks)
    pgbench -n -c "$CLIENTS" -j 2 -T "$SECONDS_PER_RUN" -D k="$k" -f "$tmp/notify.sql" >"$tmp/pgbench.out" 2>&1
    sleep 1
    cpu1=$(backend_cpu_ticks)
    wait "${pids[@]}"
    sent=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$tmp/pgbench.out")
    tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$tmp/pgbench.out")
    got=0
    for l in $(seq "$LISTENERS"); do got=$((got + $(tail -n 1 "$tmp/l.$l"))); done
    [ "$got" -eq $((sent * LISTENERS)) ] || complete=no
    echo "$tps" >>"$tmp/tps.$k"
    echo "$got $SECONDS_PER_RUN" | awk '{printf "%.0f\n", $1 / $2}' >>"$tmp/deliv.$k"
    # clock ticks (1/100 s) -> ms per 1000 notifications received by one listener
    echo "$cpu0 $cpu1 $got" | awk '{printf "%.1f\n", ($2 - $1) * 10 / ($3 / 1000)}' >>"$tmp/cpu.$k"
  done
  printf "%-9s %-12s %-14s %-22s %s\n" "$k" "$(median <"$tmp/tps.$k")" "$(median <"$tmp/deliv.$k")" \
    "$(median <"$tmp/cpu.$k")" "$complete"
done
