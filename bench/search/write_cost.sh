#!/usr/bin/env bash
# The cost of search indexing on the write path (not a test): pgbench throughput of the write path
# (rt.post_message across 1000 rooms with 4 clients, and rt.batch of 32 sends with 4 clients: the
# workloads of bench/pgbench/run.sh) with search on, with search off for the room kind (NULL
# language: nothing indexed), and with the GIN index dropped (the column still computed, as NULL).
# Runs alternate between the variants so that the shared machine's load drifts evenly; each figure is
# the median of RUNS runs of SECONDS seconds.
#
#   PG* environment -> a migrated pgrt database, as its owner (creates wc_* rooms of kind 'project';
#                      the last variant drops rt.messages_search_idx: use a scratch database)
#   bash bench/search/write_cost.sh [SECONDS] [RUNS]
set -euo pipefail

SECONDS_PER_RUN=${1:-10}
RUNS=${2:-3}
ROOMS=1000
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
PSQL=(psql -X -q -A -t -v ON_ERROR_STOP=1)

"${PSQL[@]}" >/dev/null <<SQL
SELECT rt.create_room('project', 'wc_owner', NULL, 'wc_m_' || n)
  FROM generate_series(1, $ROOMS) n WHERE NOT EXISTS (SELECT 1 FROM rt.rooms x WHERE x.id = 'wc_m_' || n);
SELECT rt.add_member('wc_m_' || n, 'u' || u)
  FROM generate_series(1, $ROOMS) n, generate_series(0, 15) u WHERE rt.member_role('wc_m_' || n, 'u' || u) IS NULL;
SQL

# Realistic text: 12 words from a small vocabulary, different in every message.
cat >"$tmp/many_rooms.sql" <<SQL
\set r random(1, $ROOMS)
\set w random(1, 5000)
SELECT rt.post_message('wc_m_' || :r, 'u' || (:client_id % 16),
       'meeting notes ' || :w || ' about the quarterly budget review and hiring plan for team ' || (:w % 97));
SQL
cat >"$tmp/batch.sql" <<SQL
\set r random(1, $ROOMS)
\set w random(1, 5000)
SELECT count(*) FILTER (WHERE ok) FROM rt.batch('wc_bridge',
    (SELECT jsonb_agg(jsonb_build_object('conn', 'c' || :client_id, 'user', 'u' || (:client_id % 16),
                                         'frame', jsonb_build_object('type', 'send', 'room', 'wc_m_' || ((:r + g) % $ROOMS + 1),
                                                                     'body', 'meeting notes ' || (:w + g) || ' about the quarterly budget review and hiring plan for team ' || g)))
       FROM generate_series(1, 32) g));
SQL

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
tps() { pgbench -n -M prepared -c 4 -j 2 -T "$SECONDS_PER_RUN" -f "$1" 2>&1 | sed -n 's/^tps = \([0-9.]*\).*/\1/p'; }
search_on()  { "${PSQL[@]}" -c "DELETE FROM rt.kind_search WHERE kind = 'project'"; }  # default: simple
search_off() { "${PSQL[@]}" -c "INSERT INTO rt.kind_search (kind, config) VALUES ('project', NULL) ON CONFLICT (kind) DO UPDATE SET config = NULL"; }

echo "PostgreSQL $("${PSQL[@]}" -c "SELECT current_setting('server_version')"), fsync=$("${PSQL[@]}" -c 'SHOW fsync'),"\
     "synchronous_commit=$("${PSQL[@]}" -c 'SHOW synchronous_commit'), $(nproc) CPUs; median of $RUNS x ${SECONDS_PER_RUN}s;"\
     "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for workload in many_rooms batch; do
  : >"$tmp/on"; : >"$tmp/off"
  for _ in $(seq "$RUNS"); do
    search_on;  tps "$tmp/$workload.sql" >>"$tmp/on"
    search_off; tps "$tmp/$workload.sql" >>"$tmp/off"
  done
  echo "$workload on $(median <"$tmp/on") off $(median <"$tmp/off") runs_on $(tr '\n' ' ' <"$tmp/on") runs_off $(tr '\n' ' ' <"$tmp/off")"
done
# Without the index at all (the baseline of "indexing on vs off"), then the index back.
"${PSQL[@]}" -c "DROP INDEX rt.messages_search_idx"
search_off
for workload in many_rooms batch; do
  : >"$tmp/none"
  for _ in $(seq "$RUNS"); do tps "$tmp/$workload.sql" >>"$tmp/none"; done
  echo "$workload no_index $(median <"$tmp/none") runs $(tr '\n' ' ' <"$tmp/none")"
done
"${PSQL[@]}" -c "CREATE INDEX messages_search_idx ON rt.messages USING gin (search_tsv) WHERE search_tsv IS NOT NULL"
search_on
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
