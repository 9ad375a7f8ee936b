#!/usr/bin/env bash
# The plans of the read paths and of the writes other than a send (docs/sql-api.md "Plans of the
# read paths"): history, events_since, edit, delete, read receipts and retention pruning, each run
# against a populated throwaway cluster (1,000 rooms of 10 messages, one room of 20,000), with
# auto_explain printing the plan of every statement the function runs (nested ones included), with
# the rows each node really returned. Each call runs 6 times (PL/pgSQL plans its statements afresh
# for the first 5 executions, then may keep a generic plan); the 6th run's plans are printed (for
# pruning, the first run's: it removes what the later ones would look for).
#
#   bash bench/read-plans.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/rt-bridge ] || { echo "read-plans: build first (scripts/build.sh)" >&2; exit 1; }
PGDIR=$(mktemp -d /tmp/pgrt-plans-XXXXXX)
PGPORT=$(scripts/free-port.sh)
trap 'scripts/pg-cluster.sh stop "$PGDIR" >/dev/null 2>&1 || true; rm -rf "$PGDIR"' EXIT
PGRT_PG_OPTS="-c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  scripts/pg-cluster.sh start "$PGDIR" "$PGPORT" >/dev/null
eval "$(scripts/pg-cluster.sh env "$PGDIR" "$PGPORT")"
build/rt-bridge migrate --log-level warn >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -o /dev/null <<'SQL'
SELECT count(rt.create_room('chat', 'p_owner', NULL, 'p_r' || r)) FROM generate_series(0, 999) r;
SELECT count(rt.add_member('p_r' || r, 'p_u' || r)) FROM generate_series(0, 999) r;
SELECT count(rt.post_message('p_r' || (g % 1000), 'p_u' || (g % 1000), 'message ' || g)) FROM generate_series(1, 10000) g;
SELECT rt.create_room('chat', 'p_owner', NULL, 'p_big');
SELECT count(rt.post_message('p_big', 'p_owner', 'message number ' || g, client_msg_id => 'k' || g)) FROM generate_series(1, 20000) g;
-- Two rooms whose events are old enough for the retention setting (30 days by default) to remove.
UPDATE rt.events SET at = at - interval '40 days' WHERE room IN ('p_r1', 'p_r2');
ANALYZE;
SQL

# plans LABEL SQL: the 6th run's plans of SQL (%s, where present, is replaced by the run number)
plans() {  # LABEL SQL [RUNS]
  local label=$1 sql=$2 runs=${3:-6} i args=()
  args+=(-c "LOAD 'auto_explain'" -c "SET auto_explain.log_nested_statements = on" -c "SET auto_explain.log_analyze = on"
         -c "SET auto_explain.log_timing = off" -c "SET auto_explain.log_level = notice" -c "SET client_min_messages = warning")
  for i in $(seq "$runs"); do  # each -c is a transaction of its own, as a client's call would be
    [ "$i" = "$runs" ] && args+=(-c "SET client_min_messages = notice" -c "SET auto_explain.log_min_duration = 0")
    args+=(-c "${sql//%s/$i}")
  done
  echo "== $label"
  # Each statement's first line, then the plan nodes that read a table (with the rows they returned).
  psql -X -q -o /dev/null "${args[@]}" 2>&1 | sed -n 's/^\(psql:[^:]*: \)\{0,1\}NOTICE: *duration: [^ ]* ms *plan://; /./p' |
    awk '/^Query Text:/ { q = $0; shown = 0; next }
         /(Scan|Insert on|Update on|Delete on|LockRows)/ || /Index Cond|Filter:|Rows Removed/ {
           if (!shown && q != "") { print q; shown = 1 } print }'
  echo
}
plans "history: the newest 50" "SELECT count(*) FROM rt.history('p_big', NULL, 50, 'p_owner')"
plans "history: 50 before seq 10,000" "SELECT count(*) FROM rt.history('p_big', 10000 - %s, 50, 'p_owner')"
plans "events_since: 1,000 after seq 15,000" "SELECT count(*) FROM rt.events_since('p_big', 15000 + %s, 1000, 'p_owner')"
plans "edit_message" "SELECT rt.edit_message('p_big', 'p_owner', 100 + %s, 'edited')"
plans "delete_message" "SELECT rt.delete_message('p_big', 'p_owner', 200 + %s)"
plans "mark_read" "SELECT rt.mark_read('p_big', 'p_owner', 300 + %s)"
plans "post_message, a retry of a stored client_msg_id" "SELECT rt.post_message('p_big', 'p_owner', 'again', client_msg_id => 'k' || (400 + %s))"
plans "prune_events (two rooms' events are past retention; the first run, which removes them)" "SELECT rt.prune_events()" 1
