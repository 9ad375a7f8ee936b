#!/usr/bin/env bash
# The cost of search indexing on the write path (not a test): pgbench throughput of the write path
# (rt.post_message across 1000 rooms with 4 clients, and rt.batch of 32 sends with 4 clients: the
# workloads of bench/pgbench/run.sh) with search on, with search off for the room kind (NULL
# language: nothing indexed), and with no search index at all (dropped; the generated column is
# computed as NULL). Runs interleave the three variants so that the shared machine's load drifts
# evenly over them; each figure is the median of RUNS runs of SECONDS seconds.
#
#   PG* environment -> a migrated pgrt database, as its owner (creates wc_* rooms of kind 'project';
#                      drops and re-creates rt.messages_search_idx: use a scratch database)
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

# Realistic text: 5,000 bodies of 6-20 words drawn like natural text (Zipf-like over 20,000 words, as
# bench/search/generate.sql), so the index sees a real vocabulary rather than one repeated sentence.
"${PSQL[@]}" >/dev/null <<'SQL'
CREATE TABLE IF NOT EXISTS public.wc_bodies (id integer PRIMARY KEY, body text NOT NULL);
INSERT INTO public.wc_bodies
SELECT i, (SELECT string_agg(translate(substr(md5('w' || rk), 1, 3 + rk % 6), '0123456789', 'aeiouybrst'), ' ')
             FROM (SELECT least(20000, floor(power(20000, random()))::integer) + 0 * i AS rk
                     FROM generate_series(1, 6 + i % 15)) x)
  FROM generate_series(1, 5000) i
ON CONFLICT DO NOTHING;
SQL
cat >"$tmp/many_rooms.sql" <<SQL
\set r random(1, $ROOMS)
\set w random(1, 5000)
SELECT rt.post_message('wc_m_' || :r, 'u' || (:client_id % 16), (SELECT body FROM public.wc_bodies WHERE id = :w));
SQL
cat >"$tmp/batch.sql" <<SQL
\set r random(1, $ROOMS)
\set w random(1, 5000)
SELECT count(*) FILTER (WHERE ok) FROM rt.batch('wc_bridge',
    (SELECT jsonb_agg(jsonb_build_object('conn', 'c' || :client_id, 'user', 'u' || (:client_id % 16),
                                         'frame', jsonb_build_object('type', 'send', 'room', 'wc_m_' || ((:r + g) % $ROOMS + 1),
                                                                     'body', b.body)))
       FROM generate_series(1, 32) g JOIN public.wc_bodies b ON b.id = (:w + g) % 5000 + 1));
SQL

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
tps() { pgbench -n -M prepared -c 4 -j 2 -T "$SECONDS_PER_RUN" -f "$1" 2>&1 | sed -n 's/^tps = \([0-9.]*\).*/\1/p'; }
search_on()  { "${PSQL[@]}" -c "DELETE FROM rt.kind_search WHERE kind = 'project'"; }  # default: simple
search_off() { "${PSQL[@]}" -c "INSERT INTO rt.kind_search (kind, config) VALUES ('project', NULL) ON CONFLICT (kind) DO UPDATE SET config = NULL"; }

echo "PostgreSQL $("${PSQL[@]}" -c "SELECT current_setting('server_version')"), fsync=$("${PSQL[@]}" -c 'SHOW fsync'),"\
     "synchronous_commit=$("${PSQL[@]}" -c 'SHOW synchronous_commit'), $(nproc) CPUs; median of $RUNS x ${SECONDS_PER_RUN}s;"\
     "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
drop_index()   { "${PSQL[@]}" -c "DROP INDEX IF EXISTS rt.messages_search_idx"; }
create_index() { "${PSQL[@]}" -c "CREATE INDEX IF NOT EXISTS messages_search_idx ON rt.messages USING gin (search_tsv) WHERE search_tsv IS NOT NULL"; }
for workload in many_rooms batch; do
  : >"$tmp/on"; : >"$tmp/off"; : >"$tmp/none"
  for _ in $(seq "$RUNS"); do
    create_index; search_on;  tps "$tmp/$workload.sql" >>"$tmp/on"
    search_off;               tps "$tmp/$workload.sql" >>"$tmp/off"
    drop_index;               tps "$tmp/$workload.sql" >>"$tmp/none"
  done
  for v in on off none; do
    echo "$workload $v $(median <"$tmp/$v") runs $(tr '\n' ' ' <"$tmp/$v")"
  done
done
create_index
search_on
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
