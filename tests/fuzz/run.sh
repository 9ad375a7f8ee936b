#!/usr/bin/env bash
# Builds the libFuzzer targets with clang + ASan + UBSan in their own build directory, replays
# every saved regression input, then fuzzes each target for a bounded time over a copy of its
# seed corpus (the repository's corpus is never written). Exits non-zero on any crash, leak,
# sanitizer report or failed invariant, leaving the input that caused it in $FUZZ_BUILD/artifacts/.
#
#   tests/fuzz/run.sh                   every target, FUZZ_SECONDS (default 20) each
#   tests/fuzz/run.sh frame jwt         only those targets
#   FUZZ_SECONDS=0 tests/fuzz/run.sh    build and replay the regressions only
#
# Environment: FUZZ_SECONDS, FUZZ_BUILD (default build-fuzz/), FUZZ_KEEP_CORPUS=DIR (keep the
# grown corpora there, e.g. to pick new seeds from).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/tests/fuzz"
build=${FUZZ_BUILD:-$root/build-fuzz}
seconds=${FUZZ_SECONDS:-20}
all_targets=(frame notify config http admin_body jwt)
targets=("${@:-${all_targets[@]}}")

command -v clang >/dev/null || { echo "fuzz: clang not found: install it (scripts/deps.sh does)" >&2; exit 1; }

echo "== fuzz: building ${targets[*]} in $build (clang, -fsanitize=fuzzer,address,undefined)"
cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPGRT_FUZZ=ON >/dev/null
cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" --target "${targets[@]/#/fuzz_}" >"$build/build.log" 2>&1 ||
  { cat "$build/build.log" >&2; echo "fuzz: build failed" >&2; exit 1; }

work=$(mktemp -d /tmp/pgrt-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$build/artifacts"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

failed=()
for t in "${targets[@]}"; do
  bin="$build/tests/fuzz/fuzz_$t"
  dict=()
  [ -f "$here/dict/$t.dict" ] && dict=(-dict="$here/dict/$t.dict")

  # Every input that once failed must keep passing: run each one, no fuzzing.
  regressions=("$here/regressions/$t"/*)
  if [ -e "${regressions[0]}" ]; then
    if ! "$bin" "${regressions[@]}" >"$work/$t.replay.log" 2>&1; then
      tail -n 60 "$work/$t.replay.log" >&2
      echo "fuzz: $t: a regression input fails again (see above)" >&2
      failed+=("$t")
      continue
    fi
    echo "fuzz: $t: ${#regressions[@]} regression input(s) pass"
  fi
  [ "$seconds" -gt 0 ] || continue

  cp -r "$here/corpus/$t" "$work/$t.corpus"
  if "$bin" "${dict[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
      -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" "$work/$t.corpus" >"$work/$t.log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/$t.log")
    cov=$(grep -o 'cov: [0-9]*' "$work/$t.log" | tail -n 1)
    size=$(ls "$work/$t.corpus" | wc -l)
    echo "fuzz: $t: ok, ${runs:-?} executions in ${seconds}s (${rate:-?}/s), ${cov:-cov: ?}, corpus $size"
    if [ -n "${FUZZ_KEEP_CORPUS:-}" ]; then
      mkdir -p "$FUZZ_KEEP_CORPUS/$t" && cp "$work/$t.corpus"/* "$FUZZ_KEEP_CORPUS/$t/"
    fi
  else
    grep -v '^#\|^INFO\|^\s*$' "$work/$t.log" | tail -n 80 >&2
    echo "fuzz: $t: FAILED; the input is in $build/artifacts/ (replay: $bin FILE)" >&2
    failed+=("$t")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets passed"
