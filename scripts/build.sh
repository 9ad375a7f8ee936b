#!/usr/bin/env bash
# Configures and builds rt-bridge and the C unit tests.
#   scripts/build.sh          release-with-debug-info build in build/
#   scripts/build.sh asan     AddressSanitizer + UBSan build in build-asan/
#   scripts/build.sh install DIR   build and install under DIR (used by docker/Dockerfile)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
case "${1:-}" in
  "")
    cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build build -j"$jobs"
    ;;
  asan)
    cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPGRT_SANITIZE=ON >/dev/null
    cmake --build build-asan -j"$jobs"
    ;;
  install)
    prefix=${2:?usage: scripts/build.sh install DIR}
    cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
      -DPGRT_DATA_DIR=/usr/share/pgrt >/dev/null
    # Only what gets installed: the tests and examples are built (and warned about) by the other modes.
    cmake --build build-release -j"$jobs" --target rt-bridge
    DESTDIR="$prefix" cmake --install build-release >/dev/null
    ;;
  *) echo "usage: scripts/build.sh [asan | install DIR]" >&2; exit 2 ;;
esac
