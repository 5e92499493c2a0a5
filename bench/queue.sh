#!/usr/bin/env bash
# Job queue throughput, one run: a fresh redis-server on a free loopback port, the ceiling from
# redis-benchmark (LPUSH and RPOP, 50 clients, no pipelining), then Plume's workers end to end
# (jobs taken, passed to a no-op service's create, outcomes written to <name>.done) with 1 and 4
# workers; prints a markdown table.
#
#   bench/queue.sh                                # Release build in ./build (BENCH_BUILD_DIR)
#   BENCH_QUEUE_JOBS=500000 bench/queue.sh
#
# The redis-server it starts is stopped on exit, also on failure or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BENCH_BUILD_DIR:-build}
JOBS=${BENCH_QUEUE_JOBS:-200000}

source scripts/setup.sh
plume_install_packages
PLUME_BUILD_TARGETS="queue_bench" plume_build "$BUILD_DIR" Release

work=$(mktemp -d)
redis_pid=
cleanup() {
  if [ -n "$redis_pid" ]; then kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" --logfile "$work/redis.log" &
redis_pid=$!
for _ in $(seq 100); do redis-cli -p "$port" PING >/dev/null 2>&1 && break; sleep 0.1; done

# -q prints progress lines (rps=...) before the result line "LPUSH: 50377.83 requests per second, ...".
ceiling=$(redis-benchmark -p "$port" -q -n "$JOBS" -t lpush,rpop | tr '\r' '\n' | grep 'requests per second')
lpush=$(echo "$ceiling" | awk '/^LPUSH:/ { print int($2) }')
rpop=$(echo "$ceiling" | awk '/^RPOP:/ { print int($2) }')
redis-cli -p "$port" FLUSHALL >/dev/null

one=$("$BUILD_DIR/bench/queue_bench" "redis://127.0.0.1:$port" "$JOBS" 1)
four=$("$BUILD_DIR/bench/queue_bench" "redis://127.0.0.1:$port" "$JOBS" 4)

echo "| measurement ($JOBS jobs, loopback, $(nproc) cores) | per second |"
echo "| --- | ---: |"
echo "| redis-benchmark LPUSH (50 clients) | $lpush |"
echo "| redis-benchmark RPOP (50 clients) | $rpop |"
echo "| Plume queue, 1 worker, no-op create | $(echo "$one" | awk '{ print $3 }') |"
echo "| Plume queue, 4 workers, no-op create | $(echo "$four" | awk '{ print $3 }') |"
