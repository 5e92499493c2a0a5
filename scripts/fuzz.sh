#!/usr/bin/env bash
# Fuzzes the Engine.IO/Socket.IO packet parsers with libFuzzer (clang, AddressSanitizer and
# UndefinedBehaviorSanitizer) for FUZZ_SECONDS (60 by default), starting from the committed
# corpus in src/transport/socketio/fuzz_corpus/. Not part of test.sh: run it by hand or in a
# nightly job. New inputs go to build-fuzz/corpus/, crashes to build-fuzz/crash-*.
#
#   ./scripts/fuzz.sh                 # 60 s
#   FUZZ_SECONDS=600 ./scripts/fuzz.sh
#   ./scripts/fuzz.sh -jobs=2         # extra arguments go to libFuzzer
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
BUILD_DIR="$PLUME_ROOT/build-fuzz"
SEED_CORPUS="$PLUME_ROOT/src/transport/socketio/fuzz_corpus"

# clang 14 is Debian 12's; libFuzzer's runtime (libclang_rt.fuzzer) is in libclang-rt-14-dev.
plume_apt_install "${PLUME_BUILD_PACKAGES[@]}" clang libclang-rt-14-dev

PLUME_BUILD_TARGETS=socketio_packet_fuzz \
  plume_build "$BUILD_DIR" RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ -DPLUME_BUILD_TESTS=OFF \
  -DPLUME_BUILD_BENCH=OFF

# libFuzzer writes new inputs to the first corpus folder, so the committed seeds stay as they are.
mkdir -p "$BUILD_DIR/corpus"
plume_log "fuzzing socketio_packet_fuzz for ${FUZZ_SECONDS}s"
cd "$BUILD_DIR"
./socketio_packet_fuzz -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 \
  -artifact_prefix="$BUILD_DIR/" "$@" corpus "$SEED_CORPUS"
