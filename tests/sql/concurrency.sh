#!/usr/bin/env bash
# Concurrency test of the SQL core, outside pgTAP (it needs several sessions and real commits).
#
#   PG* environment -> a migrated pgrt database, as a role that may create rooms (superuser in tests)
#   bash tests/sql/concurrency.sh
#
# Checks: many clients posting to one room at once end with seq 1..N, no gaps, no duplicates; a
# LISTENing session received the room's NOTIFYs in seq order, each payload the stored event (or a
# reference for an oversized one), and none for a failed command of a batch; clients racing with the same client_msg_id store it once and all
# get the same event back; one user's connections joining (leaving) at once produce one presence
# joined (left); concurrent batches on the same rooms keep every room's seq gap-free and in commit order. Each run uses fresh rooms and removes them afterwards, so it can run
# repeatedly against the same database. Exits non-zero on any failure.
set -uo pipefail

CLIENTS=${CONC_CLIENTS:-8}
POSTS_PER_CLIENT=${CONC_POSTS:-60}
RACERS=${CONC_RACERS:-12}

PSQL=(psql -X -q -A -t -v ON_ERROR_STOP=1)
tmp=$(mktemp -d)
run_id="conc_$$_$RANDOM"
room="${run_id}_a"
dup_room="${run_id}_b"
passed=0
failed=0

cleanup() {
  local pid
  for pid in "${listener_pids[@]}"; do kill "$pid" 2>/dev/null; done
  "${PSQL[@]}" -c "DELETE FROM rt.rooms WHERE id IN ('$room', '$dup_room')" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT

check() {  # check DESCRIPTION COMMAND... : pass when the command succeeds
  local what=$1; shift
  if "$@"; then
    passed=$((passed + 1)); echo "ok - $what"
  else
    failed=$((failed + 1)); echo "not ok - $what"
  fi
}

q() { "${PSQL[@]}" -c "$1"; }

die() { echo "concurrency: $*" >&2; echo "$passed passed, $((failed + 1)) failed"; exit 1; }

q "SELECT 1 FROM rt.rooms LIMIT 0" >/dev/null || die "no migrated pgrt database at the PG* environment"

# --- setup: one room with CLIENTS members ---------------------------------------------------------
q "SELECT rt.create_room('chat', 'owner', 'concurrency', '$room');
   SELECT rt.add_member('$room', 'u' || n) FROM generate_series(0, $CLIENTS - 1) n;
   SELECT rt.create_room('chat', 'owner', 'idempotency', '$dup_room');
   SELECT rt.add_member('$dup_room', 'u' || n) FROM generate_series(0, $RACERS - 1) n;" >/dev/null ||
  die "setup failed"
first_seq=$(( $(q "SELECT last_seq FROM rt.rooms WHERE id = '$room'") + 1 ))
channel=$(q "SELECT rt.room_channel('$room')")

# --- LISTENing sessions: psql fed through a fifo, so it stays idle (and receives) until told ---
declare -A listener_pids=() listener_fds=()
listener_start() {  # listener_start NAME CHANNEL
  local fd
  mkfifo "$tmp/$1.ctl"
  "${PSQL[@]}" <"$tmp/$1.ctl" >"$tmp/$1.out" 2>&1 &
  listener_pids[$1]=$!
  exec {fd}>"$tmp/$1.ctl"
  listener_fds[$1]=$fd
  echo "LISTEN \"$2\"; SELECT 'listening';" >&"$fd"
  for _ in $(seq 100); do grep -q '^listening$' "$tmp/$1.out" && break; sleep 0.05; done
  grep -q '^listening$' "$tmp/$1.out" || die "listener $1 did not start"
}
listener_stop() {  # listener_stop NAME ROOM: the room's payloads, in arrival order, into $tmp/NAME.payloads
  local fd=${listener_fds[$1]}
  printf "SELECT 'done';\n\\q\n" >&"$fd"
  exec {fd}>&-
  wait "${listener_pids[$1]}"
  unset "listener_pids[$1]" "listener_fds[$1]"
  sed -n 's/^Asynchronous notification "[a-z0-9_]*" with payload "\(.*\)" received from server process with PID [0-9]*\.$/\1/p' \
    "$tmp/$1.out" | grep -F "\"room\": \"$2\"" >"$tmp/$1.payloads"
}
listener_start main "$channel"

# --- many clients post to one room at once ---------------------------------------------------------
cat >"$tmp/post.sql" <<'SQL'
SELECT rt.post_message(:room, 'u' || :client_id, 'hello from ' || :client_id);
SQL
pgbench -n -M prepared -c "$CLIENTS" -j 2 -t "$POSTS_PER_CLIENT" -D room="$room" -f "$tmp/post.sql" \
  >"$tmp/pgbench.out" 2>&1
check "pgbench posted without errors" test $? -eq 0
# A batch whose middle command fails: the others commit, the failed one leaves no event, no seq and
# no NOTIFY behind.
check "a batch isolates its failing command" \
  test "$(q "SELECT string_agg(ok::text, ',' ORDER BY i) FROM rt.batch('conc_bridge', '[
      {\"conn\":\"c0\",\"user\":\"u0\",\"frame\":{\"type\":\"send\",\"room\":\"$room\",\"body\":\"batched 1\"}},
      {\"conn\":\"c9\",\"user\":\"stranger\",\"frame\":{\"type\":\"send\",\"room\":\"$room\",\"body\":\"must not appear\"}},
      {\"conn\":\"c1\",\"user\":\"u1\",\"frame\":{\"type\":\"send\",\"room\":\"$room\",\"body\":\"batched 2\"}}]')")" = true,false,true
# One oversized message: stored in full, announced by reference.
q "SELECT rt.post_message('$room', 'u0', repeat('x', 20480))" >/dev/null
total=$((CLIENTS * POSTS_PER_CLIENT + 3))
last_seq=$((first_seq + total - 1))

check "seq runs 1..last_seq without gaps or duplicates" \
  test "$(q "SELECT count(*) = max(seq) AND count(DISTINCT seq) = count(*) AND min(seq) = 1
             FROM rt.events WHERE room = '$room'")" = t
check "last_seq is $last_seq ($total posts)" \
  test "$(q "SELECT last_seq FROM rt.rooms WHERE id = '$room'")" = "$last_seq"
check "every post is one message row" \
  test "$(q "SELECT count(*) FROM rt.messages WHERE room = '$room'")" = "$total"

# --- what the listener received ---------------------------------------------------------------------
listener_stop main "$room"
# Every payload ends with its authentication tag (docs/sql-api.md "Channels"): check it is there,
# then compare what remains, the wire frame, as before.
check "every payload carries the authentication tag as its last member" \
  test "$(grep -c ', "sig": "[0-9]*\.[0-9a-f]\{64\}"}$' "$tmp/main.payloads")" = "$(wc -l <"$tmp/main.payloads")"
sed 's/, "sig": "[0-9]*\.[0-9a-f]\{64\}"}$/}/' "$tmp/main.payloads" >"$tmp/payloads"
sed -n 's/.*"seq": \([0-9]*\).*/\1/p' "$tmp/payloads" >"$tmp/seqs"
seq "$first_seq" "$last_seq" >"$tmp/expected"
check "the listener got one NOTIFY per event, in seq order" cmp -s "$tmp/seqs" "$tmp/expected"
check "the failed batch command was not notified" test "$(grep -c 'must not appear' "$tmp/payloads")" = 0
check "the oversized event was announced by reference" \
  test "$(tail -n 1 "$tmp/payloads")" = "{\"seq\": $last_seq, \"room\": \"$room\", \"type\": \"ref\"}"
check "events_since resolves the reference" \
  test "$(q "SELECT length(e -> 'data' ->> 'body') FROM rt.events_since('$room', $last_seq - 1, 1) e")" = 20480
sample=$((first_seq + total / 2))
check "a payload is the stored event's wire JSON" \
  test "$(sed -n "$((sample - first_seq + 1))p" "$tmp/payloads")" = \
       "$(q "SELECT e::text FROM rt.events_since('$room', $sample - 1, 1) e")"

# --- concurrent batches on the same rooms ------------------------------------------------------------
# BATCH_CLIENTS sessions each run batches of 8 sends spread over the same BATCH_ROOMS rooms (in a
# different order each time, plus one command that must fail), through rt.batch's set-based path.
# Every room must end with seq 1..N, no gaps, one event per successful send, and a listener must
# receive each room's events in seq order: NOTIFYs arrive in commit order, so seq order is commit order.
batch_rooms=()
mapfile -t batch_rooms < <(q "SELECT id FROM (SELECT '${run_id}_c' || n AS id FROM generate_series(1, 200) n) c
                              WHERE rt.room_channel(id) = '$channel' LIMIT ${BATCH_ROOMS:-4}")
for r in "${batch_rooms[@]}"; do
  q "SELECT rt.create_room('chat', 'owner', NULL, '$r');
     SELECT rt.add_member('$r', 'u' || n) FROM generate_series(0, $CLIENTS - 1) n;" >/dev/null || die "batch setup failed"
done
rooms_sql=$(printf "'%s'," "${batch_rooms[@]}"); rooms_sql="ARRAY[${rooms_sql%,}]"
listener_start batches "$channel"
cat >"$tmp/batch.sql" <<SQL
SELECT count(*) FILTER (WHERE ok) FROM rt.batch('conc_bridge', (
    SELECT jsonb_agg(jsonb_build_object('conn', 'c' || :client_id, 'user', CASE WHEN g = 5 THEN 'stranger' ELSE 'u' || :client_id END,
                                        'frame', jsonb_build_object('type', 'send', 'body', 'batch ' || :client_id || ' ' || g,
                                                                    'room', ($rooms_sql)[1 + (g * 7 + :client_id + (random() * 3)::int) % ${#batch_rooms[@]}]))
                     ORDER BY random())
      FROM generate_series(1, 8) g));
SQL
pgbench -n -M prepared -c "$CLIENTS" -j 2 -t "${BATCHES:-40}" -f "$tmp/batch.sql" >"$tmp/pgbench-batch.out" 2>&1
check "concurrent batches ran without errors" test $? -eq 0
check "every room's seq runs 1..last_seq without gaps, one event per successful send" \
  test "$(q "SELECT bool_and(e.n = e.top AND e.top = r.last_seq) AND sum(e.msgs) = $CLIENTS * ${BATCHES:-40} * 7
               FROM rt.rooms r JOIN (SELECT room, count(*) AS n, max(seq) AS top, count(*) FILTER (WHERE event = 'message') AS msgs
                                      FROM rt.events GROUP BY room) e ON e.room = r.id
              WHERE r.id = ANY ($rooms_sql)")" = t
check "no event of the failing commands" \
  test "$(q "SELECT count(*) FROM rt.events WHERE room = ANY ($rooms_sql) AND actor = 'stranger'")" = 0
printf "SELECT 'done';\n\\q\n" >&"${listener_fds[batches]}"
exec {listener_fds[batches]}>&-
wait "${listener_pids[batches]}"
unset "listener_pids[batches]" "listener_fds[batches]"
ordered=t
for r in "${batch_rooms[@]}"; do
  sed -n 's/^Asynchronous notification "[a-z0-9_]*" with payload "\(.*\)" received from server process with PID [0-9]*\.$/\1/p' \
    "$tmp/batches.out" | grep -F "\"room\": \"$r\"" | sed -n 's/.*"seq": \([0-9]*\).*/\1/p' >"$tmp/batch-seqs"
  # seq 1 is room_created, 2 .. CLIENTS+1 the member_added events from before the listener started
  seq $(( CLIENTS + 2 )) "$(q "SELECT last_seq FROM rt.rooms WHERE id = '$r'")" >"$tmp/batch-expected"
  cmp -s "$tmp/batch-seqs" "$tmp/batch-expected" || ordered=f
done
check "each room's events were notified in seq order (= commit order), none missing" test "$ordered" = t
q "DELETE FROM rt.rooms WHERE id = ANY ($rooms_sql)" >/dev/null

# --- clients racing with the same client_msg_id ---------------------------------------------------
# A session holds an advisory lock while RACERS clients queue behind it, then releases it so that
# they all post at the same moment.
race() {  # race SQL_WITH_$n: run it from RACERS sessions released at the same moment; output in racer.N
  local key=$(( (RANDOM << 15) | RANDOM )) pids=() n
  "${PSQL[@]}" -c "SELECT pg_advisory_lock($key)" -c "SELECT pg_sleep(1.5)" >/dev/null &
  pids+=($!)
  sleep 0.3
  for n in $(seq 0 $((RACERS - 1))); do
    "${PSQL[@]}" -c "SELECT pg_advisory_lock_shared($key)" -c "${1//\$n/$n}" >"$tmp/racer.$n" 2>&1 &
    pids+=($!)
  done
  wait "${pids[@]}"
}
# The key is (room, author, client_msg_id): the racers are one author on several connections.
race "SELECT rt.post_message('$dup_room', 'u0', 'same', client_msg_id => 'same-id') ->> 'seq'"
check "the racing clients all succeeded" test "$(grep -lx '[0-9][0-9]*' "$tmp"/racer.* | wc -l)" = "$RACERS"
check "they all got the same event back" test "$(grep -h '^[0-9][0-9]*$' "$tmp"/racer.* | sort -u | wc -l)" = 1
check "the message was stored once" \
  test "$(q "SELECT count(*) FROM rt.messages WHERE room = '$dup_room' AND client_msg_id = 'same-id'")" = 1
check "and took exactly one seq" \
  test "$(q "SELECT count(*) FILTER (WHERE event = 'message') = 1 AND count(*) = max(seq)
             FROM rt.events WHERE room = '$dup_room'")" = t
check "another author's same client_msg_id is a message of its own" \
  test "$(q "SELECT rt.post_message('$dup_room', 'u1', 'mine', client_msg_id => 'same-id') ->> 'data'")" = \
       '{"body": "mine", "meta": {}, "media_url": null, "client_msg_id": "same-id"}'

# --- one user's connections joining and leaving at once ---------------------------------------------
# Presence changes serialize on the room lock: RACERS connections of u0 (one per bridge) produce
# exactly one "joined", and disconnecting them all at once exactly one "left".
listener_start presence "$(q "SELECT rt.room_channel('$dup_room')")"
race "SELECT rt.dispatch('conc_bridge_\$n', 'conn', 'u0', '{\"type\":\"join\",\"room\":\"$dup_room\"}') ->> 'role'"
check "every connection joined" test "$(grep -lx 'member' "$tmp"/racer.* | wc -l)" = "$RACERS"
check "presence lists u0 once, with one row per connection" \
  test "$(q "SELECT count(*) || ' ' || (SELECT rt.online_users('$dup_room')::text) FROM rt.presence WHERE room = '$dup_room'")" = \
       "$RACERS [\"u0\"]"
race "SELECT rt.disconnect('conc_bridge_\$n', 'conn')"
check "every connection left" test "$(q "SELECT count(*) FROM rt.presence WHERE room = '$dup_room'")" = 0
listener_stop presence "$dup_room"
check "exactly one presence joined and one left" \
  test "$(grep -o '"status": "[a-z]*"' "$tmp/presence.payloads" | tr '\n' ' ')" = '"status": "joined" "status": "left" '
q "DELETE FROM rt.bridges WHERE id LIKE 'conc\\_bridge%'" >/dev/null

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
