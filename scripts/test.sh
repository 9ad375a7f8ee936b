#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds the normal and the sanitizer build,
# starts a throwaway PostgreSQL cluster, migrates it, runs every level through ctest (pgTAP,
# C unit tests, SQL concurrency, end-to-end against real bridges), runs the C levels again
# under AddressSanitizer + UBSan, removes the cluster, and exits non-zero if anything failed.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
scripts/build.sh
scripts/build.sh asan

workdir=$(mktemp -d /tmp/pgrt-test.XXXXXX)
chmod 755 "$workdir"
cleanup() {
  scripts/pg-cluster.sh stop "$workdir/pg" || true
  rm -rf "$workdir"
}
trap cleanup EXIT

port=$(scripts/free-port.sh)
PGRT_PG_OPTS="-c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  scripts/pg-cluster.sh start "$workdir/pg" "$port"
eval "$(scripts/pg-cluster.sh env "$workdir/pg" "$port")"
export PGRT_TEST_TMP="$workdir"
build/rt-bridge migrate

status=0
echo "== ctest: every level (build/)"
ctest --test-dir build --output-on-failure -V 2>&1 | tee "$workdir/ctest.log" | grep -v '^[0-9]*: ok ' || status=1
grep -q '100% tests passed' "$workdir/ctest.log" || status=1

echo "== ctest: C unit and end-to-end under AddressSanitizer + UBSan (build-asan/)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -V -L 'unit|e2e' 2>&1 | tee "$workdir/ctest-asan.log" |
  grep -v '^[0-9]*: ok ' || status=1
grep -q '100% tests passed' "$workdir/ctest-asan.log" || status=1

# A leak shows only when a bridge exits, often after its test passed: the e2e helpers keep every
# sanitizer report they see, and any report fails the run.
if compgen -G "$workdir/sanitizer-reports/*" >/dev/null; then
  echo "FAILED: sanitizer reports from rt-bridge:" >&2
  for report in "$workdir"/sanitizer-reports/*; do
    echo "-- $report" >&2
    grep -E -A12 'ERROR: |runtime error: ' "$report" | head -60 >&2
  done
  status=1
fi

echo "== summary"
for log in "$workdir/ctest.log" "$workdir/ctest-asan.log"; do
  grep -E '^[0-9]+/[0-9]+ Test +#[0-9]+: ' "$log" | sed 's/^/  /'
done
if [ $status -ne 0 ]; then
  echo "FAILED: see the output above" >&2
fi
exit $status
