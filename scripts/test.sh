#!/usr/bin/env bash
# Builds and tests everything: a Release tree (build/) with unit, integration, Node
# compatibility, browser and example tests, then an AddressSanitizer + UndefinedBehaviorSanitizer
# tree (build-asan/) running the C++ tests again. Prints "N passed, M failed" and exits non-zero on
# any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

plume_install_packages || exit 1
plume_install_chromium || exit 1
plume_npm_install tests/compat || exit 1
plume_npm_install tests/browser || exit 1
plume_demo_vendor || exit 1

# ccache: with debug info the build directory is part of the hash unless told otherwise; CI's
# fresh clone lives in another folder.
export CCACHE_NOHASHDIR=1

passed=0
failed=0
failures=()

# run_ctest <build dir> [ctest args...]: runs ctest and adds its counts to the totals.
run_ctest() {
  local dir=$1
  shift
  local log
  log=$(mktemp)
  ctest --test-dir "$dir" --output-on-failure -j "$PLUME_JOBS" --timeout 300 "$@" 2>&1 | tee "$log"
  local status=${PIPESTATUS[0]}
  # ctest's closing line: "100% tests passed, 0 tests failed out of 42"
  local line
  line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
  if [ -n "$line" ]; then
    local total bad
    total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
    bad=$(sed -E 's/.*tests passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
    passed=$((passed + total - bad))
    failed=$((failed + bad))
    [ "$bad" -eq 0 ] || failures+=("$dir: $bad failed")
  elif [ "$status" -ne 0 ]; then
    failed=$((failed + 1))
    failures+=("$dir: ctest exited $status")
  else
    failed=$((failed + 1))
    failures+=("$dir: ran no test")
  fi
  rm -f "$log"
}

if plume_build build Release; then
  run_ctest build
else
  failed=$((failed + 1))
  failures+=("build: Release build failed")
fi

# Sanitizer tree: the C++ tests again under ASan + UBSan. The Node (compat, browser) and examples
# tests stay in the Release run (they test the same code through processes); the benchmark peers
# are not built.
# Debug with -g1 (line tables only) compiles and links faster than full debug info and still
# gives symbolized sanitizer reports.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
if plume_build build-asan Debug -DPLUME_SANITIZE=ON -DPLUME_BUILD_BENCH=OFF -DCMAKE_CXX_FLAGS_DEBUG=-g1; then
  run_ctest build-asan -LE 'compat|browser|examples'
else
  failed=$((failed + 1))
  failures+=("build-asan: sanitizer build failed")
fi

for failure in "${failures[@]}"; do
  printf 'FAILED %s\n' "$failure"
done
printf '%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
