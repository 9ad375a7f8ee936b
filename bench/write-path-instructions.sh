#!/usr/bin/env bash
# Instructions per call of the write path (docs/benchmarks.md "The write path"), counted by valgrind
# (callgrind) in a single-user PostgreSQL backend: a figure that does not move with the load of a
# shared machine, unlike CPU time, so two versions can be compared at any time. One statement per
# transaction, as psql or a quiet bridge sends them (single-user mode parses and plans each statement:
# ~37,000 instructions of `SELECT 1` are included in every figure).
#
#   bash bench/write-path-instructions.sh [--sql-dir DIR --migrations-dir DIR] [--calls N] [--profile DIR] [WORKLOAD...]
#
# --profile DIR keeps the callgrind profile of each workload's larger run as DIR/WORKLOAD.callgrind
# (read it with `callgrind_annotate --inclusive=yes`), to see where the instructions go.
#
# WORKLOAD: select1 | post | post_cmid (with a new client_msg_id) | batch:K (rt.batch of K sends to K
# rooms) | plain (the same three writes and the NOTIFY as one prepared plain-SQL statement: the floor
# without rules; it writes search_tsv itself where the schema does not generate it). Default: select1
# post post_cmid batch:1 batch:32 plain. Each figure is (instructions of 2N calls - instructions of N
# calls) / N, so start-up cost cancels out.
# Needs valgrind and the postgres user (the cluster runs as it when we are root, see scripts/pg-cluster.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SQL_DIR=$ROOT/sql MIG_DIR=$ROOT/migrations CALLS=100 PROFILE_DIR="" WORKLOADS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --sql-dir) SQL_DIR=$2; shift ;;
    --migrations-dir) MIG_DIR=$2; shift ;;
    --calls) CALLS=$2; shift ;;
    --profile) PROFILE_DIR=$(mkdir -p "$2" && cd "$2" && pwd); shift ;;
    -*) echo "usage: bench/write-path-instructions.sh [--sql-dir DIR --migrations-dir DIR] [--calls N] [--profile DIR] [WORKLOAD...]" >&2; exit 2 ;;
    *) WORKLOADS+=("$1") ;;
  esac
  shift
done
[ ${#WORKLOADS[@]} -gt 0 ] || WORKLOADS=(select1 post post_cmid batch:1 batch:32 plain)
command -v valgrind >/dev/null || { echo "write-path-instructions: needs valgrind" >&2; exit 1; }
[ -x build/rt-bridge ] || { echo "write-path-instructions: build first (scripts/build.sh)" >&2; exit 1; }
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PGDIR=$(mktemp -d /tmp/pgrt-wpi-XXXXXX)
PGPORT=$(scripts/free-port.sh)
trap 'scripts/pg-cluster.sh stop "$PGDIR" >/dev/null 2>&1 || true; rm -rf "$PGDIR"' EXIT
as_server_user() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

PGRT_PG_OPTS="-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c autovacuum=off" \
  scripts/pg-cluster.sh start "$PGDIR" "$PGPORT" >/dev/null
eval "$(scripts/pg-cluster.sh env "$PGDIR" "$PGPORT")"
RT_SQL_DIR=$SQL_DIR RT_MIGRATIONS_DIR=$MIG_DIR build/rt-bridge migrate --log-level warn >/dev/null
psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
SELECT count(rt.create_room('chat', 'bench_owner', NULL, 'm_r' || r)) FROM generate_series(0, 999) r;
SELECT count(rt.add_member('m_r' || u, 'm_u' || u)) FROM generate_series(0, 999) u;
SQL
# The plain workload writes search_tsv itself where the schema no longer generates it (migration 0047).
TSV_COL="" TSV_VAL=""
if [ -z "$(psql -X -A -t -c "SELECT attgenerated FROM pg_attribute WHERE attrelid = 'rt.messages'::regclass AND attname = 'search_tsv'")" ]; then
  TSV_COL=", search_tsv" TSV_VAL=", to_tsvector('simple', \$3) || array_to_tsvector(ARRAY['@' || id])"
fi
scripts/pg-cluster.sh stop "$PGDIR" >/dev/null

BODY='hello, this is a benchmark message'
statements() {  # WORKLOAD COUNT: one statement per line (single-user mode runs each line alone)
  local w=$1 n=$2 i k
  [ "$w" = plain ] && echo "PREPARE p(text, text, text) AS WITH r AS (UPDATE rt.rooms SET last_seq = last_seq + 1 WHERE id = \$1 RETURNING id, last_seq), e AS (INSERT INTO rt.events (room, seq, event, actor, data, at) SELECT id, last_seq, 'message', \$2, jsonb_build_object('body', \$3), now() FROM r RETURNING room, seq, data), m AS (INSERT INTO rt.messages (room, seq, author, body, created_at, search_config$TSV_COL) SELECT id, last_seq, \$2, \$3, now(), 'simple'$TSV_VAL FROM r) SELECT pg_notify('rt_rooms_0', jsonb_build_object('room', room, 'seq', seq, 'data', data)::text) FROM e;"
  for i in $(seq "$n"); do
    k=$(( (i * 7919) % 1000 ))
    case $w in
      select1) echo "SELECT 1;" ;;
      post) echo "SELECT rt.post_message('m_r$k', 'm_u$k', '$BODY');" ;;
      post_cmid) echo "SELECT rt.post_message('m_r$k', 'm_u$k', '$BODY', client_msg_id => 'id-$n-$i');" ;;
      plain) echo "EXECUTE p('m_r$k', 'm_u$k', '$BODY');" ;;
      batch:*)
        local b=${w#batch:} g kk cmds=""
        for g in $(seq "$b"); do
          kk=$(( (k + g) % 1000 ))
          cmds="$cmds${cmds:+,}{\"conn\":\"c\",\"user\":\"m_u$kk\",\"frame\":{\"type\":\"send\",\"room\":\"m_r$kk\",\"body\":\"$BODY\"}}"
        done
        echo "SELECT count(*) FILTER (WHERE ok) FROM rt.batch('b', '[$cmds]');" ;;
      *) echo "write-path-instructions: unknown workload $w" >&2; exit 2 ;;
    esac
  done
}
instructions() {  # WORKLOAD COUNT [PROFILE]: instructions of a single-user backend running COUNT calls
  local out=/dev/null
  statements "$1" "$2" >"$PGDIR/in.sql"
  chmod 644 "$PGDIR/in.sql"
  if [ -n "${3:-}" ]; then out=$PGDIR/profile.callgrind; fi
  as_server_user valgrind --tool=callgrind --callgrind-out-file="$out" "$PGBIN/postgres" --single -D "$PGDIR/data" \
    -c fsync=off -c synchronous_commit=off -c autovacuum=off pgrt <"$PGDIR/in.sql" >"$PGDIR/out.txt" 2>&1
  if grep -q 'ERROR' "$PGDIR/out.txt"; then grep -m3 'ERROR' "$PGDIR/out.txt" >&2; exit 1; fi
  if [ -n "${3:-}" ]; then cp "$out" "$3"; fi
  sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$PGDIR/out.txt"
}
echo "write-path-instructions: sql $SQL_DIR, $CALLS calls per figure"
echo "| workload | instructions per call | per send |"
echo "|---|---:|---:|"
for w in "${WORKLOADS[@]}"; do
  n=$CALLS
  case $w in batch:*) per=${w#batch:}; [ "$per" -gt 1 ] && n=$(( (CALLS + 4) / 5 )) ;; *) per=1 ;; esac
  a=$(instructions "$w" "$n")
  b=$(instructions "$w" $((2 * n)) "${PROFILE_DIR:+$PROFILE_DIR/${w/:/_}.callgrind}")
  printf "| %s | %d | %d |\n" "$w" $(( (b - a) / n )) $(( (b - a) / n / per ))
done
