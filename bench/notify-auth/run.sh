#!/usr/bin/env bash
# What authenticating NOTIFY payloads costs per event (docs/operations.md "Trust model").
#   SQL:    rt.notify_sign over 100,000 event payloads of ~300 bytes, against the same loop without
#           it; and 2,000 rt.post_message calls with the real rt.notify_sign and with it replaced by
#           the identity for the measurement (restored after).
#   Bridge: tests/unit/test_notify_auth's timing of notify_auth_check (median of 3 x 200,000).
# Needs PG* variables pointing at a migrated, throwaway database. Prints medians of 3 runs and uptime.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=3
uptime
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
loop_ms() { # SQL expression applied to p
  psql -X -q -At -c '\timing on' -c "SELECT count(length($1)) FROM (SELECT rt.event_json('bench', g, 'message', 'a', now(), jsonb_build_object('body', repeat('x', 200)))::text AS p FROM generate_series(1, 100000) g) s" \
    | awk '/^Time:/ {print $2}'
}
with=$(for _ in $(seq $runs); do loop_ms 'rt.notify_sign(p)'; done | median)
without=$(for _ in $(seq $runs); do loop_ms 'p'; done | median)
echo "sql: 100000 payloads: with rt.notify_sign ${with} ms, without ${without} ms; per event $(echo "($with - $without) / 100" | bc -l | xargs printf '%.1f') us"

psql -X -q -c "SELECT rt.create_room('chat', 'bench_owner', NULL, 'bench_notify_auth') WHERE NOT EXISTS (SELECT 1 FROM rt.rooms WHERE id = 'bench_notify_auth')" >/dev/null
sql_file=$(mktemp)
for _ in $(seq 1000); do echo "SELECT 1 FROM rt.post_message('bench_notify_auth', 'bench_owner', 'a message of a typical length, about sixty bytes long');"; done > "$sql_file"
posts_ms() { # 1,000 rt.post_message calls, each its own transaction (one tagged NOTIFY each, as in production)
  local t0 t1
  t0=$(date +%s%N); psql -X -q -At -f "$sql_file" >/dev/null; t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 ))
}
untag() {
  psql -X -q -c "ALTER FUNCTION rt.notify_sign(text) RENAME TO notify_sign_real" \
       -c "CREATE FUNCTION rt.notify_sign(payload text) RETURNS text LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS \$\$ BEGIN RETURN payload; END \$\$"
}
retag() { psql -X -q -c "DROP FUNCTION rt.notify_sign(text)" -c "ALTER FUNCTION rt.notify_sign_real(text) RENAME TO notify_sign"; }
trap 'rm -f "$sql_file"' EXIT
tagged_runs=() untagged_runs=()
for _ in $(seq $runs); do # interleaved, so drift in the machine's load hits both alike
  tagged_runs+=("$(posts_ms)")
  untag; untagged_runs+=("$(posts_ms)"); retag
done
signed=$(printf '%s\n' "${tagged_runs[@]}" | median)
unsigned=$(printf '%s\n' "${untagged_runs[@]}" | median)
echo "sql: 1000 x rt.post_message (autocommit): ${signed} ms tagged, ${unsigned} ms untagged (runs ${tagged_runs[*]} / ${untagged_runs[*]}); per event $(echo "$signed - $unsigned" | bc -l) us of ${signed} us"
build/tests/test_notify_auth | grep '^# notify_auth_check'
uptime
