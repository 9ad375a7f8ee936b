#!/usr/bin/env bash
# Local development: one command from a fresh clone to a running bridge with its own database.
#
#   scripts/dev.sh            install what is missing, build, start (or reuse) the local PostgreSQL
#                             cluster in .pgrt/, migrate it, create the demo rooms, and (re)start a
#                             bridge and the example services (examples/) in the background
#   scripts/dev.sh stop       stop the bridge, the services and the cluster (data stays in .pgrt/)
#   scripts/dev.sh token SUB [ROLE]   print a JWT for user SUB, valid 24 h
#
# Settings: PGRT_HOME (.pgrt), PGRT_PORT (8080), PGRT_PG_PORT (54329).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
home=${PGRT_HOME:-$root/.pgrt}
port=${PGRT_PORT:-8080}
pg_port=${PGRT_PG_PORT:-54329}
mkdir -p "$home"
chmod 755 "$home"

secret_file="$home/jwt-secret"
pid_file="$home/bridge.pid"

stop_pid() {
  local file=$1
  if [ -f "$file" ] && kill -0 "$(cat "$file")" 2>/dev/null; then
    kill -TERM "$(cat "$file")"
    for _ in $(seq 50); do kill -0 "$(cat "$file")" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$file"
}
stop_bridge() { stop_pid "$pid_file"; }
stop_examples() { for name in assistant meeting-sim; do stop_pid "$home/$name.pid"; done; }

# The example services, from the main build once it includes examples/, else built on their own.
examples_dir() {
  if [ -x build/examples/assistant ]; then echo build/examples; return; fi
  cmake -S examples -B build-examples -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build-examples >/dev/null
  echo build-examples
}

case "${1:-start}" in
  stop)
    stop_examples
    stop_bridge
    scripts/pg-cluster.sh stop "$home/pg"
    echo "pgrt: bridge, example services and PostgreSQL stopped (data kept in $home)"
    exit 0
    ;;
  token)
    [ -f "$secret_file" ] || { echo "run scripts/dev.sh first" >&2; exit 1; }
    exec node scripts/mint-token.mjs "$(cat "$secret_file")" "${2:?usage: scripts/dev.sh token SUB [ROLE]}" "${3:-}"
    ;;
  start) ;;
  *) echo "usage: scripts/dev.sh [start | stop | token SUB [ROLE]]" >&2; exit 2 ;;
esac

scripts/deps.sh
scripts/build.sh
scripts/pg-cluster.sh start "$home/pg" "$pg_port"
eval "$(scripts/pg-cluster.sh env "$home/pg" "$pg_port")"
build/rt-bridge migrate
PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -f examples/seed-demo.sql

[ -s "$secret_file" ] || { umask 077; openssl rand -hex 32 > "$secret_file"; }

# The bridge logs in as a role holding only rt_bridge, as in a real deployment (docker/postgres-init.sh
# does the same), so the demo exercises the privileges production has, not the superuser's.
bridge_role=pgrt_dev_bridge
psql -X -q -v ON_ERROR_STOP=1 -v role="$bridge_role" <<'SQL'
SELECT pg_catalog.format('CREATE ROLE %I LOGIN', :'role')
 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = :'role') \gexec
SELECT pg_catalog.format('GRANT rt_bridge TO %I', :'role')
 WHERE NOT pg_catalog.pg_has_role(:'role', 'rt_bridge', 'MEMBER') \gexec
SQL

stop_bridge
PGUSER=$bridge_role RT_JWT_SECRET=$(cat "$secret_file") RT_PORT=$port nohup build/rt-bridge serve >>"$home/bridge.log" 2>&1 &
echo $! > "$pid_file"

for _ in $(seq 100); do
  if curl -fsS "http://127.0.0.1:$port/health" 2>/dev/null | grep -q '"db":"up"'; then break; fi
  kill -0 "$(cat "$pid_file")" 2>/dev/null || { tail -20 "$home/bridge.log" >&2; echo "pgrt: the bridge did not start" >&2; exit 1; }
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/health" | grep -q '"db":"up"' || { echo "pgrt: the bridge is up but the database is not" >&2; exit 1; }

stop_examples
bin=$(examples_dir)
for name in assistant meeting-sim; do
  nohup "$bin/$name" >>"$home/$name.log" 2>&1 &
  echo $! > "$home/$name.pid"
done
token() { node scripts/mint-token.mjs "$(cat "$secret_file")" "$1"; }

cat <<MSG

pgrt is running.
  open         http://localhost:$port/
  health       curl http://localhost:$port/health
  WebSocket    ws://localhost:$port/ws?token=TOKEN
  demo         alice: http://localhost:$port/?token=$(token alice)
               bob:   http://localhost:$port/?token=$(token bob)
               (one window each; the assistant and the meeting pipeline are running)
  tokens       alice: $(token alice)
               bob:   $(token bob)
               more:  scripts/dev.sh token USER [admin]
  psql         psql -h 127.0.0.1 -p $pg_port -U postgres pgrt   (the bridge itself logs in as $bridge_role)
  logs         $home/bridge.log, $home/assistant.log, $home/meeting-sim.log
  stop         scripts/dev.sh stop
MSG
