#!/usr/bin/env bash
# Checks docker/ without a Docker engine: what the Dockerfile copies and runs exists and behaves
# (the very scripts, flags and install tree), the runtime packages exist in apt and cover every
# shared library of the installed binary, compose.yaml and nginx.conf agree with the bridge
# (services, health checks, every RT_* variable and flag against `rt-bridge --help`), and the
# health probe and the role script work against real bridges.
#   tests/docker/check.sh   (ctest: docker)   RT_BRIDGE_BIN: the bridge to check (default build/rt-bridge)
# With PG* variables reaching a migrated database (scripts/test.sh sets them) it also starts a
# bridge as a login role made by docker/postgres-init.sh (a throwaway role, dropped at the end).
# Prints "N passed, N failed" and exits 1 when anything failed.
set -u  # no pipefail: `... | grep -q` may end the writer early, by design
cd "$(dirname "$0")/../.."

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
note() { echo "note $*"; }
check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then ok "$what"; else fail "$what"; fi; }

bin=${RT_BRIDGE_BIN:-build/rt-bridge}
tmp=$(mktemp -d "${PGRT_TEST_TMP:-/tmp}/docker-check.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  [ -n "${role:-}" ] && psql -X -q -c "DROP ROLE IF EXISTS \"$role\"" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT

df=docker/Dockerfile compose=docker/compose.yaml
for f in "$df" "$compose" docker/nginx.conf docker/healthcheck.sh docker/postgres-init.sh .dockerignore; do
  check "$f exists" test -s "$f"
done
for f in scripts/deps.sh scripts/build.sh docker/healthcheck.sh docker/postgres-init.sh; do
  check "$f is executable and parses" bash -n "$f"
  [ -x "$f" ] || fail "$f is not executable (git mode 100755)"
done

# ---- Dockerfile: instructions with continuations joined, comments dropped ----
mapfile -t ins < <(awk '/^[[:space:]]*#/ { next } { line = line $0 } /\\$/ { sub(/\\$/, "", line); next }
  { if (line ~ /[^[:space:]]/) print line; line = "" }' "$df")
instr() { printf '%s\n' "${ins[@]}" | grep -E "^$1[[:space:]]" ; }

froms=$(instr FROM)
[ "$(echo "$froms" | wc -l)" = 2 ] && ok "Dockerfile has two stages" || fail "Dockerfile stages: $froms"
if echo "$froms" | awk '{ print $2 }' | grep -qvx 'debian:bookworm'; then
  fail "every stage is FROM debian:bookworm (pinned tag): $froms"
else
  ok "every stage is FROM debian:bookworm"
fi
echo "$froms" | head -1 | grep -qiE ' AS build$' && ok "first stage is named build" || fail "first stage is not 'AS build'"

# COPY sources (not --from) exist in the repository and are not hidden by .dockerignore.
ignored() { # crude .dockerignore matching: anchored globs on the path or a parent of it
  local path=${1#./} pat
  while read -r pat; do
    pat=${pat#/}; [ -z "$pat" ] || [ "${pat#\#}" != "$pat" ] && continue
    local p=$path
    while [ -n "$p" ]; do
      # shellcheck disable=SC2053
      [[ $p == $pat ]] && return 0
      [ "${p%/*}" = "$p" ] && break
      p=${p%/*}
    done
  done < .dockerignore
  return 1
}
while read -r line; do
  [[ $line == *--from=* ]] && continue
  read -ra words <<<"$line"
  srcs=("${words[@]:1:${#words[@]}-2}")
  for s in "${srcs[@]}"; do
    [[ $s == --* ]] && continue
    if [ "$s" = . ]; then ok "COPY . (the repository)"; continue; fi
    if [ -e "$s" ] && ! ignored "$s"; then ok "COPY source $s exists and is in the build context"
    else fail "COPY source $s is missing or excluded by .dockerignore"; fi
  done
done < <(instr COPY)
for p in build node_modules build-asan .pgrt tests/browser/artifacts; do
  ignored "$p" && ok ".dockerignore excludes $p" || fail ".dockerignore does not exclude $p"
done

# Every scripts/*.sh the RUN lines call exists, and deps.sh accepts the flags used.
while read -r call; do
  script=${call%% *} args=${call#"$script"}; script=${script#/tmp/pgrt/}
  if [ ! -x "$script" ]; then fail "RUN calls $script, which is missing"; continue; fi
  case "$script" in
    scripts/deps.sh)
      # shellcheck disable=SC2086
      if list=$("$script" $args --print) && [ -n "$list" ]; then ok "RUN $script$args: flags accepted"
      else fail "RUN $script$args: flags refused"; fi ;;
    scripts/build.sh)
      [[ $args == " install /out" ]] && ok "RUN $script$args" || fail "RUN $script$args: expected 'install /out'" ;;
    *) ok "RUN $script exists" ;;
  esac
done < <(instr RUN | grep -oE '(/tmp/pgrt/)?scripts/[a-z-]+\.sh( --?[a-z-]+| /[a-z]+| install)*')
instr RUN | grep -q 'deps.sh --build-only' && ok "build stage installs with deps.sh --build-only" || fail "no deps.sh --build-only"
instr RUN | grep -q 'deps.sh --runtime' && ok "runtime stage installs with deps.sh --runtime" || fail "no deps.sh --runtime"
user=$(instr USER | tail -1 | awk '{ print $2 }')
[ -n "$user" ] && [ "$user" != root ] && [ "$user" != 0 ] && instr RUN | grep -q "useradd.* $user\$\|useradd.* $user " &&
  ok "runs as the non-root user $user, created by useradd" || fail "USER is missing, root, or never created"
instr EXPOSE | grep -qw 8080 && ok "EXPOSE 8080" || fail "no EXPOSE 8080"
[ "$(instr ENTRYPOINT)" = 'ENTRYPOINT ["rt-bridge"]' ] && ok 'ENTRYPOINT ["rt-bridge"]' || fail "ENTRYPOINT is not [\"rt-bridge\"]"
[ "$(instr CMD)" = 'CMD ["serve"]' ] && ok 'CMD ["serve"]' || fail "CMD is not [\"serve\"]"
probe=$(instr HEALTHCHECK | grep -oE 'CMD \["[^"]+"' | sed 's/^CMD \["//; s/"$//')
if [ -n "$probe" ] && instr COPY | grep -q "docker/healthcheck.sh .*/$probe\$"; then
  ok "HEALTHCHECK runs $probe, copied from docker/healthcheck.sh"
else
  fail "HEALTHCHECK command '$probe' is not the copied docker/healthcheck.sh"
fi

# ---- packages: names exist in this machine's apt (Debian 12), and cover the binary ----
. /etc/os-release 2>/dev/null
[ "${VERSION_CODENAME:-}" = bookworm ] || note "this machine is ${VERSION_CODENAME:-unknown}, not bookworm: apt checks speak for it"
mapfile -t runtime < <(scripts/deps.sh --runtime --print)
mapfile -t buildpk < <(scripts/deps.sh --build-only --print)
if command -v apt-cache >/dev/null; then
  for p in "${runtime[@]}" "${buildpk[@]}"; do
    check "apt package $p exists" bash -c "apt-cache show --no-all-versions '$p' | grep -q '^Package: $p\$'"
  done
else
  note "no apt-cache: package names not checked"
fi

# scripts/build.sh install, as the build stage runs it.
if scripts/build.sh install "$tmp/out" >"$tmp/install.log" 2>&1; then ok "scripts/build.sh install DIR"
else fail "scripts/build.sh install DIR:"; tail -20 "$tmp/install.log"; fi
ibin=$tmp/out/usr/bin/rt-bridge
check "installed usr/bin/rt-bridge" test -x "$ibin"
for d in migrations sql web; do
  if diff <(cd "$d" && find . -type f | sort) <(cd "$tmp/out/usr/share/pgrt/$d" 2>/dev/null && find . -type f | sort) >/dev/null
  then ok "installed usr/share/pgrt/$d holds every file of $d/"; else fail "usr/share/pgrt/$d differs from $d/"; fi
done
"$ibin" --help >"$tmp/ihelp" 2>&1
for s in web-root migrations-dir sql-dir; do
  grep -qE -- "--$s +RT_[A-Z_]+ +/usr/share/pgrt/" "$tmp/ihelp" &&
    ok "installed --$s defaults under /usr/share/pgrt" || fail "installed --$s does not default under /usr/share/pgrt"
done

if command -v apt-cache >/dev/null && command -v dpkg >/dev/null && [ -x "$ibin" ]; then
  apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
    --no-enhances "${runtime[@]}" 2>/dev/null | grep -vE '^ |^<' | sed 's/:.*//' | sort -u >"$tmp/closure"
  echo libc6 >>"$tmp/closure" # essential, in every image
  if ldd "$ibin" | grep -q 'not found'; then fail "ldd: a library is not found"; fi
  while read -r lib; do
    pkg=$(dpkg -S "$lib" 2>/dev/null | head -1 | sed 's/:.*//;s/,.*//')
    [ -z "$pkg" ] && pkg=$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null | head -1 | sed 's/:.*//;s/,.*//')
    if [ -n "$pkg" ] && grep -qx "$pkg" "$tmp/closure"; then ok "$(basename "$lib") comes with the runtime packages ($pkg)"
    else fail "$(basename "$lib") (${pkg:-no package}) is not among the runtime packages or their dependencies"; fi
  done < <(ldd "$ibin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }')
  # libwebsockets loads its libuv event loop as a plugin (not a link-time dependency).
  plugin=$(dpkg -S 'libwebsockets-evlib_uv.so' 2>/dev/null | head -1 | sed 's/:.*//')
  printf '%s\n' "${runtime[@]}" | grep -qx "${plugin:-none}" &&
    ok "the libwebsockets libuv plugin ($plugin) is a runtime package" || fail "the libuv plugin's package (${plugin:-?}) is not in the runtime list"
fi

# ---- compose.yaml and nginx.conf against the bridge ----
"$bin" --help >"$tmp/help" 2>&1 || fail "$bin --help"
if docker compose version >/dev/null 2>&1; then
  RT_JWT_SECRET=x POSTGRES_PASSWORD=x PGRT_BRIDGE_PASSWORD=x docker compose -f "$compose" config -q &&
    ok "docker compose config accepts compose.yaml" || fail "docker compose config refuses compose.yaml"
else
  note "no docker compose plugin here: 'docker compose config' skipped"
fi
if python3 -c 'import yaml' 2>/dev/null; then
  python3 - "$compose" "$tmp/help" docker/nginx.conf <<'PY'
import re, sys, yaml, os
compose_path, help_path, nginx_path = sys.argv[1:]
c = yaml.safe_load(open(compose_path))
help_text = open(help_path).read()
envs = set(re.findall(r'\bRT_[A-Z_]+', help_text))
flags = set(re.findall(r'^\s+(--[a-z-]+)', help_text, re.M))
hb = int(re.search(r'--heartbeat\s+RT_HEARTBEAT\s+(\d+)', help_text).group(1))
res = []
def check(what, cond): res.append((bool(cond), what))
s = c.get('services', {})
check('compose.yaml parses as YAML with services', isinstance(s, dict) and s)
for name in ('postgres', 'migrate', 'bridge-1', 'bridge-2'):
    check(f'service {name}', name in s)
pg = s.get('postgres', {})
check('postgres image is postgres:15-bookworm', pg.get('image') == 'postgres:15-bookworm')
check('postgres healthcheck uses pg_isready', 'pg_isready' in str(pg.get('healthcheck', {}).get('test')))
for v in pg.get('volumes', []):
    src = v.split(':')[0]
    if src.startswith('.'):
        check(f'postgres mounts {src}, which exists', os.path.exists(os.path.join(os.path.dirname(compose_path), src)))
mg = s.get('migrate', {})
check('migrate runs `migrate`', mg.get('command') == ['migrate'])
check('migrate waits for postgres healthy', mg.get('depends_on', {}).get('postgres', {}).get('condition') == 'service_healthy')
builders = [n for n, v in s.items() if 'build' in v]
for n in builders:
    b = s[n]['build']
    ctx = os.path.normpath(os.path.join(os.path.dirname(compose_path), b.get('context', '.')))
    check(f'{n}: build context {b.get("context")} holds {b.get("dockerfile")}', os.path.isfile(os.path.join(ctx, b.get('dockerfile', 'Dockerfile'))))
bridges = [n for n in s if n.startswith('bridge-')]
ports = {'bridge-1': '8081:8080', 'bridge-2': '8082:8080'}
for n in bridges:
    b = s[n]
    env = b.get('environment', {})
    check(f'{n}: waits for migrate to complete', b.get('depends_on', {}).get('migrate', {}).get('condition') == 'service_completed_successfully')
    check(f'{n}: health check runs pgrt-healthcheck', b.get('healthcheck', {}).get('test') == ['CMD', 'pgrt-healthcheck'])
    check(f'{n}: publishes {ports.get(n)}', ports.get(n) in [str(p) for p in b.get('ports', [])])
    check(f'{n}: RT_JWT_SECRET is required (:?)', ':?' in str(env.get('RT_JWT_SECRET', '')))
    check(f'{n}: database via PG* variables', all(k in env for k in ('PGHOST', 'PGUSER', 'PGDATABASE')))
    check(f'{n}: same image as migrate', b.get('image') == mg.get('image'))
for n, v in s.items():
    env = v.get('environment', {}) or {}
    for k in env:
        if k.startswith('RT_'):
            check(f'{n}: {k} is a setting of rt-bridge --help', k in envs)
    cmd = v.get('command')
    if n in bridges + ['migrate'] and cmd:
        check(f'{n}: command {cmd[0]} is serve or migrate', cmd[0] in ('serve', 'migrate'))
        for a in cmd[1:]:
            if a.startswith('--'):
                check(f'{n}: flag {a.split("=")[0]} is in --help', a.split('=')[0] in flags)
ng = open(nginx_path).read()
up = re.findall(r'^\s*server\s+([\w.-]+):(\d+)', ng, re.M)
check('nginx upstream names exactly the bridge services', sorted(h for h, _ in up) == sorted(bridges))
check('nginx upstream port is 8080 (the image default)', up and all(p == '8080' for _, p in up))
check('nginx forwards the WebSocket upgrade', 'proxy_set_header Upgrade $http_upgrade' in ng and 'proxy_http_version 1.1' in ng)
for t in ('proxy_read_timeout', 'proxy_send_timeout'):
    m = re.search(t + r'\s+(\d+)s', ng)
    check(f'nginx {t} exceeds twice the heartbeat ({2*hb}s)', m and int(m.group(1)) > 2 * hb)
# Browsers send ?token=JWT: the access log must not record query strings (or the default format).
logs = re.findall(r'^\s*access_log\s+(\S+)(?:\s+(\S+))?\s*;', ng, re.M)
formats = dict(re.findall(r"log_format\s+(\S+)\s+((?:'[^']*'\s*)+);", ng))
check('nginx access logs use a named format without the query string',
      logs and all(f and f.rstrip(';') in formats for _, f in logs)
      and not any(v in ''.join(formats.values()) for v in ('$request ', '$request"', '$request_uri', '$args', '$query_string', '$arg_')))
if 'nginx' in s:
    check('nginx mounts docker/nginx.conf', any(str(v).startswith('./nginx.conf:') for v in s['nginx'].get('volumes', [])))
for good, what in res:
    print(('ok   ' if good else 'FAIL ') + what)
PY
  [ $? -le 1 ] || fail "the compose.yaml checker crashed"
else
  note "python3 with PyYAML (Debian python3-yaml) is missing: compose.yaml structure not checked"
fi >"$tmp/compose.out"
cat "$tmp/compose.out"
passed=$((passed + $(grep -c '^ok ' "$tmp/compose.out"))) failed=$((failed + $(grep -c '^FAIL ' "$tmp/compose.out")))

# ---- the health probe and the role script against real bridges ----
freeport() { scripts/free-port.sh; }
start_bridge() { # PORT LOG [ENV...]
  local port=$1 log=$2; shift 2
  env RT_JWT_SECRET=docker-check "$@" "$bin" --port "$port" >"$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do
    bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
nodb_port=$(freeport) dead_pg=$(freeport)
if start_bridge "$nodb_port" "$tmp/nodb.log" PGHOST=127.0.0.1 PGPORT="$dead_pg" PGDATABASE=none; then
  sleep 0.3
  if docker/healthcheck.sh 127.0.0.1 "$nodb_port" 2>/dev/null; then fail "healthcheck says healthy while the database is down"
  else ok "healthcheck fails while the bridge's database is down (503)"; fi
else
  fail "a bridge without database did not start"; cat "$tmp/nodb.log"
fi
check "healthcheck fails when nothing listens" bash -c "! docker/healthcheck.sh 127.0.0.1 $(freeport)"

if [ -n "${PGHOST:-}${PGPORT:-}${PGDATABASE:-}" ] && psql -X -Atqc 'SELECT rt.schema_version()' >/dev/null 2>&1; then
  role=pgrt_check_$$_$RANDOM
  if POSTGRES_USER=${PGUSER:-postgres} POSTGRES_DB=${PGDATABASE:-postgres} PGRT_BRIDGE_PASSWORD=x PGRT_BRIDGE_ROLE=$role \
      bash docker/postgres-init.sh >"$tmp/init.log" 2>&1 &&
     POSTGRES_USER=${PGUSER:-postgres} POSTGRES_DB=${PGDATABASE:-postgres} PGRT_BRIDGE_PASSWORD=x PGRT_BRIDGE_ROLE=$role \
      bash docker/postgres-init.sh >>"$tmp/init.log" 2>&1; then
    ok "postgres-init.sh creates a login role in rt_bridge (twice: idempotent)"
  else
    fail "postgres-init.sh:"; cat "$tmp/init.log"
  fi
  port=$(freeport)
  if start_bridge "$port" "$tmp/bridge.log" PGUSER="$role"; then
    healthy=false
    for _ in $(seq 30); do docker/healthcheck.sh 127.0.0.1 "$port" 2>/dev/null && { healthy=true; break; }; sleep 0.2; done
    $healthy && ok "healthcheck passes on a bridge connected as the rt_bridge role" || fail "healthcheck never passed"
    sleep 0.5
    if grep -E 'level=(warn|error)' "$tmp/bridge.log"; then fail "the bridge as $role logged warnings or errors"
    else ok "the bridge runs as $role (rt_bridge only) without warnings"; fi
    bpid=${pids[-1]}
    kill -TERM "$bpid"; wait "$bpid"; rc=$?
    [ $rc = 0 ] && grep -q 'event=stopped' "$tmp/bridge.log" && ok "SIGTERM (the image's STOPSIGNAL): clean exit 0" ||
      fail "SIGTERM: exit $rc"
  else
    fail "the bridge as $role did not start"; cat "$tmp/bridge.log"
  fi
else
  note "no migrated database in PG*: the role script and the healthy probe not checked"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
