#!/usr/bin/env bash
# Fuzzes Plume's parsers with libFuzzer (clang, AddressSanitizer and UndefinedBehaviorSanitizer):
# every target plume_fuzz_target declares in CMakeLists.txt, or the one named, FUZZ_SECONDS each
# (60 by default), one after the other, from its committed seed corpus. Not part of test.sh: run
# it by hand or in a nightly job (CI replays the committed corpora as tests, label fuzz).
# New inputs go to build-fuzz/corpus/<target>/, crashes to build-fuzz/crashes/<target>/; a table
# of executions, new corpus entries and crashes per target ends the run, which fails when any
# target crashed.
#
#   ./scripts/fuzz.sh                        # every target, 60 s each
#   ./scripts/fuzz.sh query_string_fuzz      # one target
#   FUZZ_SECONDS=600 ./scripts/fuzz.sh
#   ./scripts/fuzz.sh json_fuzz -max_len=256 # extra arguments go to libFuzzer
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
BUILD_DIR="$PLUME_ROOT/build-fuzz"
only=""
if [ $# -gt 0 ] && [[ $1 != -* ]]; then
  only=$1
  shift
fi

# clang 14 is Debian 12's; libFuzzer's runtime (libclang_rt.fuzzer) is in libclang-rt-14-dev.
plume_apt_install "${PLUME_BUILD_PACKAGES[@]}" clang libclang-rt-14-dev

PLUME_BUILD_TARGETS=${only:-fuzz} \
  plume_build "$BUILD_DIR" RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ -DPLUME_FUZZ=ON \
  -DPLUME_BUILD_TESTS=OFF -DPLUME_BUILD_BENCH=OFF

# fuzz_targets.txt: one line per target, its name then its seed corpus folders.
mapfile -t targets < "$BUILD_DIR/fuzz_targets.txt"
rows=()
failed=0
for line in "${targets[@]}"; do
  [ -n "$line" ] || continue
  read -r target seeds <<<"$line"
  if [ -n "$only" ] && [ "$target" != "$only" ]; then
    continue
  fi
  corpus="$BUILD_DIR/corpus/$target"
  crashes="$BUILD_DIR/crashes/$target"
  log="$BUILD_DIR/logs/$target.log"
  mkdir -p "$corpus" "$crashes" "$(dirname "$log")"
  before=$(find "$corpus" -type f | wc -l)
  crashes_before=$(find "$crashes" -type f | wc -l)
  plume_log "fuzzing $target for ${FUZZ_SECONDS}s (log: ${log#"$PLUME_ROOT"/})"
  # libFuzzer writes new inputs to the first corpus folder, so the committed seeds stay as they are.
  # shellcheck disable=SC2086 # the seed folders are separate arguments
  status=0
  (cd "$BUILD_DIR" && "./$target" -max_total_time="$FUZZ_SECONDS" -timeout=25 -print_final_stats=1 \
    -artifact_prefix="$crashes/" "$@" "$corpus" $seeds) >"$log" 2>&1 || status=$?
  final_stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
  executions=$(final_stat number_of_executed_units)
  per_second=$(final_stat average_exec_per_sec)
  added=$(($(find "$corpus" -type f | wc -l) - before))
  found=$(($(find "$crashes" -type f | wc -l) - crashes_before))
  if [ "$status" -ne 0 ] || [ "$found" -gt 0 ]; then
    failed=1
    plume_log "$target failed (status $status); see $log and $crashes/"
    grep -m 3 -E "ERROR: |fuzz property broken|runtime error" "$log" >&2 || true
  fi
  rows+=("$target ${executions:--} ${per_second:--} $added $found")
done

if [ ${#rows[@]} -eq 0 ]; then
  plume_log "no fuzz target named ${only}; see $BUILD_DIR/fuzz_targets.txt"
  exit 2
fi
printf '\n%-22s %12s %8s %12s %8s\n' target executions exec/s "new corpus" crashes
for row in "${rows[@]}"; do
  # shellcheck disable=SC2086 # the row's fields
  printf '%-22s %12s %8s %12s %8s\n' $row
done
exit "$failed"
