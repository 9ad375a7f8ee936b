#!/usr/bin/env bash
# A project-local PostgreSQL 15 cluster: its own data directory and port, never the system service.
#
#   scripts/pg-cluster.sh start DIR PORT   create (first time) and start; idempotent
#   scripts/pg-cluster.sh stop  DIR        fast shutdown (no error if it is not running)
#   scripts/pg-cluster.sh env   DIR PORT   print the PG* exports that reach it
#
# PostgreSQL refuses to run as root, so when we are root the server runs as the `postgres`
# system user (which the Debian server package creates) and DIR is handed to it.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
DB_NAME=${PGRT_DB_NAME:-pgrt}

die() { echo "pg-cluster: $*" >&2; exit 1; }

as_server_user() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cmd_env() {
  local dir=$1 port=$2
  echo "export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGDATABASE=$DB_NAME"
}

cmd_start() {
  local dir=$1 port=$2
  [ -x "$PGBIN/initdb" ] || die "no $PGBIN/initdb: install the Debian package postgresql-15"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$dir"
    as_server_user test -w "$dir" ||
      die "the postgres user cannot write $dir (a parent directory is not searchable); choose another place with PGRT_HOME"
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_server_user "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  fi
  if as_server_user "$PGBIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    echo "pg-cluster: already running in $dir" >&2
  else
    # Sockets live in DIR so nothing touches /var/run/postgresql; TCP on loopback only.
    as_server_user "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 ${PGRT_PG_OPTS:-}" start >/dev/null ||
      { tail -20 "$dir/server.log" >&2; die "the server did not start (port $port taken?)"; }
  fi
  if ! "$PGBIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -Atqc \
      "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" | grep -q 1; then
    "$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U postgres "$DB_NAME"
  fi
}

cmd_stop() {
  local dir=$1
  [ -f "$dir/data/PG_VERSION" ] || return 0
  as_server_user "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

case "${1:-}" in
  start) [ $# -eq 3 ] || die "usage: $0 start DIR PORT"; cmd_start "$2" "$3" ;;
  stop)  [ $# -eq 2 ] || die "usage: $0 stop DIR"; cmd_stop "$2" ;;
  env)   [ $# -eq 3 ] || die "usage: $0 env DIR PORT"; cmd_env "$2" "$3" ;;
  *) die "usage: $0 start DIR PORT | stop DIR | env DIR PORT" ;;
esac
