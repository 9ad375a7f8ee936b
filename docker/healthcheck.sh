#!/usr/bin/env bash
# Container health probe for rt-bridge: exits 0 when GET /health answers HTTP 200 (the database is
# reachable and the bridge is not shutting down), 1 otherwise. No curl needed: plain HTTP goes
# through bash's /dev/tcp; with RT_TLS_CERT_FILE set it goes through `openssl s_client` (openssl
# comes with ca-certificates, a runtime package).
#   pgrt-healthcheck [HOST [PORT]]   defaults: 127.0.0.1 and $RT_PORT (8080)
set -u
host=${1:-127.0.0.1}
port=${2:-${RT_PORT:-8080}}
request=$'GET /health HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n'

if [ -n "${RT_TLS_CERT_FILE:-}" ]; then
  status=$(printf '%s' "$request" |
    timeout 4 openssl s_client -quiet -connect "$host:$port" -servername localhost 2>/dev/null | head -n 1)
else
  status=$(timeout 4 bash -c 'exec 3<>"/dev/tcp/$1/$2" && printf "%s" "$3" >&3 && head -n 1 <&3' \
    _ "$host" "$port" "$request" 2>/dev/null)
fi

case "$status" in
  "HTTP/1."[01]" 200 "*) exit 0 ;;
  *) echo "pgrt-healthcheck: $host:$port /health: ${status:-no answer}" >&2; exit 1 ;;
esac
