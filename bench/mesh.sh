#!/usr/bin/env bash
# The mesh benchmark (about 3 minutes): a remote `get` through the mesh between two processes on
# this machine, Plume against feathers-distributed 3 on cote in its own two-node setup
# (server-first, UDP discovery on loopback), with cote's default intervals and with the tuned
# ones. Each run measures: discovery (client start to the proxy being usable), 2,000 sequential
# gets (p50/p99), 10,000 gets with 50 in flight, and failure detection (SIGKILL of the owner to
# the proxy being gone). Plume's run also times the same calls on a local service (the baseline).
# Prints a markdown table and writes it to build/bench/mesh.md (BENCH_BUILD_DIR/bench/).
#
#   bench/mesh.sh
#   BENCH_MESH_FD="tuned" bench/mesh.sh          # only the tuned feathers-distributed run
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

N=${BENCH_MESH_N:-2000}
CONC=${BENCH_MESH_CONCURRENCY:-50}
FD_RUNS=${BENCH_MESH_FD:-"defaults tuned"}
PLUME_PORT=${BENCH_MESH_PLUME_PORT:-3121}
BUILD_DIR=${BENCH_BUILD_DIR:-build}
SECRET=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')

plume_npm_install bench
plume_install_packages
PLUME_BUILD_TARGETS="plume_cli mesh_client" plume_build "$BUILD_DIR" Release

source bench/lib.sh
results="$work/results.jsonl"
: >"$results"

# run_pair <target> <owner command> <client command...>: starts the owner, then the client with
# a pipe for its stdin; when the client says READY_FOR_KILL, kills the owner with SIGKILL and
# tells the client when; keeps the client's RESULT lines.
run_pair() {
  local target=$1 owner_pid=$2
  shift 2
  mkfifo "$work/$target.in"
  "$@" <"$work/$target.in" >"$work/$target.out" 2>"$work/$target.err" &
  local client=$!
  pids+=("$client")
  exec 9>"$work/$target.in"
  local waited=0
  until grep -q READY_FOR_KILL "$work/$target.out" 2>/dev/null; do
    if ! kill -0 "$client" 2>/dev/null || ((waited > 1500)); then
      cat "$work/$target.err" "$work/$target.out" >&2
      plume_log "$target: the client did not finish its calls"
      exit 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  kill -9 "$owner_pid"
  echo "$(date +%s%3N)" >&9
  exec 9>&-
  # cote notices a dead node after up to 50 s with its defaults.
  timeout 90 tail --pid="$client" -f /dev/null || plume_log "$target: no detection within 90 s"
  sed -n 's/^RESULT //p' "$work/$target.out" | while read -r line; do
    printf '{"target":"%s","result":%s}\n' "$target" "$line" >>"$results"
    plume_log "$target | $line"
  done
}

# (a) plume: an owner node with `items` (memory), the measuring client joins by UDP multicast.
multicast_port=$((20000 + RANDOM % 20000))
mkdir -p "$work/owner"
cat >"$work/owner/default.yaml" <<YAML
name: owner
host: 127.0.0.1
port: $PLUME_PORT
services:
  items: { database: memory }
mesh:
  secret: $SECRET
  discovery: udp
  multicast: { port: $multicast_port, interface: 127.0.0.1 }
YAML
start plume-owner "http://127.0.0.1:$PLUME_PORT/healthz" "$BUILD_DIR/plume" serve --config "$work/owner"
owner=$pid
payload=$(printf 'x%.0s' $(seq 100))
for i in $(seq 0 99); do
  curl -sf -o /dev/null -H 'Content-Type: application/json' \
    -d "{\"name\":\"item $i\",\"payload\":\"$payload\"}" "http://127.0.0.1:$PLUME_PORT/items"
done
run_pair plume "$owner" "$BUILD_DIR/bench/mesh_client" --secret "$SECRET" --discovery udp \
  --multicast-port "$multicast_port" --n "$N" --concurrency "$CONC"

# (b) feathers-distributed 3 + cote 1.2, server first, as in its published measurements.
for run in $FD_RUNS; do
  udp_port=$((20000 + RANDOM % 20000))
  tuned=0
  [ "$run" = tuned ] && tuned=1
  # exec: $! must be node itself, which run_pair kills.
  (cd bench && TUNED=$tuned UDP_PORT=$udp_port exec node mesh/fd-bench.mjs server >"$work/fd-$run-server.log" 2>&1) &
  server=$!
  pids+=("$server")
  sleep 2
  run_pair "fd-$run" "$server" env TUNED=$tuned UDP_PORT=$udp_port N="$N" CONC="$CONC" \
    node bench/mesh/fd-bench.mjs client
done

mkdir -p "$BUILD_DIR/bench"
{
  printf '%s, %s cores; two processes on loopback; %s sequential gets, %s gets with %s in flight; records of ~150 bytes\n\n' \
    "$(date -u +%Y-%m-%d)" "$(nproc)" "$N" "$((N * 5))" "$CONC"
  node bench/mesh/report.js "$results"
} | tee "$BUILD_DIR/bench/mesh.md"
