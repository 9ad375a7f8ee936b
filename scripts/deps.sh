#!/usr/bin/env bash
# Installs what pgrt needs that a fresh Debian 12 machine lacks (apt packages, then npm packages
# from the lockfile). Safe to run again: it only installs what is missing.
#   scripts/deps.sh            build, run and test dependencies
#   scripts/deps.sh --runtime     only what a running bridge needs (docker/Dockerfile, runtime stage)
#   scripts/deps.sh --build-only  only what building needs: no test packages, no npm (docker/Dockerfile,
#                                 build stage)
#   scripts/deps.sh ... --print   print the apt packages of that mode, one a line, and install nothing
#                                 (tests/docker/check.sh reads the lists this way)
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_PACKAGES=(build-essential cmake pkg-config libwebsockets-dev libuv1-dev libjansson-dev libjwt-dev libpq-dev)
TEST_PACKAGES=(postgresql-15 postgresql-client-15 postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl
  nodejs npm chromium clang libclang-rt-14-dev curl openssl python3-yaml)
RUNTIME_PACKAGES=(libwebsockets17 libwebsockets-evlib-uv libuv1 libjansson4 libjwt0 libpq5 ca-certificates)

mode=all print=false
for arg in "$@"; do
  case "$arg" in
    --runtime) mode=runtime ;;
    --build-only) mode=build ;;
    --print) print=true ;;
    *) echo "usage: scripts/deps.sh [--runtime | --build-only] [--print]" >&2; exit 2 ;;
  esac
done

case "$mode" in
  runtime) wanted=("${RUNTIME_PACKAGES[@]}") ;;
  build) wanted=("${BUILD_PACKAGES[@]}") ;;
  *) wanted=("${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}") ;;
esac

if $print; then
  printf '%s\n' "${wanted[@]}"
  exit 0
fi

missing=()
for p in "${wanted[@]}"; do
  # Node may come from elsewhere than apt (it does on these machines): only install it when absent.
  if [ "$p" = nodejs ] && command -v node >/dev/null; then continue; fi
  if [ "$p" = npm ] && command -v npm >/dev/null; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$mode" = all ]; then
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
fi
