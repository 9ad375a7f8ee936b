#!/usr/bin/env bash
# Local development: one command from a fresh clone to a running bridge with its own database.
#
#   scripts/dev.sh            install what is missing, build, start (or reuse) the local PostgreSQL
#                             cluster in .pgrt/, migrate it, and (re)start a bridge in the background
#   scripts/dev.sh stop       stop the bridge and the cluster (data stays in .pgrt/)
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

stop_bridge() {
  if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
    kill -TERM "$(cat "$pid_file")"
    for _ in $(seq 50); do kill -0 "$(cat "$pid_file")" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$pid_file"
}

case "${1:-start}" in
  stop)
    stop_bridge
    scripts/pg-cluster.sh stop "$home/pg"
    echo "pgrt: bridge and PostgreSQL stopped (data kept in $home)"
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

[ -s "$secret_file" ] || { umask 077; openssl rand -hex 32 > "$secret_file"; }

stop_bridge
RT_JWT_SECRET=$(cat "$secret_file") RT_PORT=$port nohup build/rt-bridge serve >>"$home/bridge.log" 2>&1 &
echo $! > "$pid_file"

for _ in $(seq 100); do
  if curl -fsS "http://127.0.0.1:$port/health" 2>/dev/null | grep -q '"db":"up"'; then break; fi
  kill -0 "$(cat "$pid_file")" 2>/dev/null || { tail -20 "$home/bridge.log" >&2; echo "pgrt: the bridge did not start" >&2; exit 1; }
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/health" | grep -q '"db":"up"' || { echo "pgrt: the bridge is up but the database is not" >&2; exit 1; }

cat <<MSG

pgrt is running.
  open         http://localhost:$port/
  health       curl http://localhost:$port/health
  WebSocket    ws://localhost:$port/ws?token=TOKEN
  tokens       alice: $(node scripts/mint-token.mjs "$(cat "$secret_file")" alice)
               bob:   $(node scripts/mint-token.mjs "$(cat "$secret_file")" bob)
               more:  scripts/dev.sh token USER [admin]
  psql         psql -h 127.0.0.1 -p $pg_port -U postgres pgrt
  logs         $home/bridge.log
  stop         scripts/dev.sh stop
MSG
