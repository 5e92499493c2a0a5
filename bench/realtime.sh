#!/usr/bin/env bash
# The real-time benchmark, bounded in time (about 3 minutes): plume and the Feathers 5 peer, one
# after the other, each alone on the machine, over Socket.io:
#   - socket `get`: persistent websocket clients calling `get` in a closed loop (req/s, p50/p99)
#   - event fan-out: 1,000 and 10,000 connected clients receive `messages created`; per event,
#     the time from the REST create until the last client has it (p50/p99 over the events)
# Prints a markdown table and writes it to build/bench/realtime.md (BENCH_BUILD_DIR/bench/).
#
#   bench/realtime.sh
#   BENCH_PLUME_BIN=/path/to/plume bench/realtime.sh     # measure that binary, build nothing
#   BENCH_RT_FANOUT="1000 10000" BENCH_RT_EVENTS=20 BENCH_RT_DURATION=10 bench/realtime.sh
#
# Every process it starts is stopped on exit, also on failure or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

DURATION=${BENCH_RT_DURATION:-10}             # seconds of socket `get`, after a 2 s warm-up
CONNECTIONS=${BENCH_RT_CONNECTIONS:-64}       # socket `get` connections
GET_PROCESSES=${BENCH_RT_GET_PROCESSES:-2}    # Node processes they are spread over
GET_CLIENTS=${BENCH_RT_GET_CLIENTS:-"socket.io-client raw"}   # see bench/realtime/get-load.js
FANOUT=${BENCH_RT_FANOUT:-"1000 10000"}       # connected clients per fan-out scenario
EVENTS=${BENCH_RT_EVENTS:-20}                 # measured events per fan-out scenario
SERVER_THREADS=${BENCH_SERVER_THREADS:-$(nproc)}
SEED=${BENCH_SEED:-100}
PLUME_PORT=${BENCH_RT_PLUME_PORT:-3111}
FEATHERS_PORT=${BENCH_RT_FEATHERS_PORT:-3112}
BUILD_DIR=${BENCH_BUILD_DIR:-build}           # a Release tree, relative to the repository root

plume_npm_install bench
if [ -n "${BENCH_PLUME_BIN:-}" ]; then
  PLUME_BIN=$BENCH_PLUME_BIN
else
  plume_install_packages
  PLUME_BUILD_TARGETS="plume_cli" plume_build "$BUILD_DIR" Release
  PLUME_BIN=$BUILD_DIR/plume
fi

# 10,000 clients hold 10,000 descriptors in the server and, spread out, in the client processes.
ulimit -n "$(ulimit -Hn)"
max_clients=0
for clients in $FANOUT; do ((clients > max_clients)) && max_clients=$clients; done
if (($(ulimit -n) < max_clients + 100)); then
  plume_log "open file limit $(ulimit -n) is below $max_clients clients; raise the hard limit"
  exit 1
fi

source bench/lib.sh

results="$work/results.jsonl"
: >"$results"

# run_client <target> <scenario> <kind> <bound seconds> <command...>: runs a load client in the
# background (so a TERM stops the run at once), keeps its RESULT line.
run_client() {
  local target=$1 scenario=$2 kind=$3 bound=$4
  shift 4
  timeout "$bound" "$@" >"$work/client.out" 2>"$work/client.err" &
  pids+=("$!")
  if ! wait "$!"; then
    cat "$work/client.err" >&2
    plume_log "$target | $scenario: the load client failed"
    exit 1
  fi
  local result
  result=$(sed -n 's/^RESULT //p' "$work/client.out")
  printf '{"target":"%s","scenario":"%s","kind":"%s","result":%s}\n' "$target" "$scenario" "$kind" "$result" >>"$results"
  plume_log "$target | $scenario | $result"
}

# measure <target> <base url>: socket `get`, then the fan-outs (which create messages).
measure() {
  local target=$1 base=$2 client clients processes
  for client in $GET_CLIENTS; do
    run_client "$target" "socket \`get\`, $CONNECTIONS conns, $client" get $((DURATION + 60)) \
      node bench/realtime/get-load.js --url "$base" --connections "$CONNECTIONS" --processes "$GET_PROCESSES" \
      --duration "$DURATION" --warmup 2 --client "$client"
  done
  for clients in $FANOUT; do
    processes=$((clients >= 4000 ? 4 : 2))
    run_client "$target" "fan-out to $clients clients" fanout 300 \
      node bench/realtime/fanout.js --url "$base" --clients "$clients" --processes "$processes" --events "$EVENTS"
  done
}

# (a) plume: the memory messages service of bench/run.sh, every event to every connection.
mkdir -p "$work/plume"
cat >"$work/plume/default.yaml" <<YAML
name: bench
host: 127.0.0.1
port: $PLUME_PORT
threads: $SERVER_THREADS
limits: { maxConnections: $((max_clients + 1000)) }
realtime: { publish: everyone }
services:
  messages:
    database: memory
    schema:
      text: { type: string, required: true, maxLength: 2000 }
      userId: { type: integer }
      createdAt: { type: string, format: date-time, default: now }
    paginate: { default: 10, max: 50 }
YAML
start plume "http://127.0.0.1:$PLUME_PORT/healthz" "$PLUME_BIN" serve --config "$work/plume"
node bench/seed.js "http://127.0.0.1:$PLUME_PORT" "$SEED"
measure plume "http://127.0.0.1:$PLUME_PORT"
stop "$pid"

# (b) Feathers 5: Express + @feathersjs/socketio + memory, the `everyone` channel (one process).
start feathers "http://127.0.0.1:$FEATHERS_PORT/messages" node bench/realtime/feathers-socket-server.js "$FEATHERS_PORT"
node bench/seed.js "http://127.0.0.1:$FEATHERS_PORT" "$SEED"
measure feathers "http://127.0.0.1:$FEATHERS_PORT"
stop "$pid"

mkdir -p "$BUILD_DIR/bench"
{
  printf '%s, %s cores, %s plume threads; socket `get`: %s websocket connections in %s Node processes, %s s after 2 s warm-up; fan-out: %s events per scenario, raw Socket.IO websocket clients in 2 (1,000) or 4 (10,000) Node processes; %s seeded records\n\n' \
    "$(date -u +%Y-%m-%d)" "$(nproc)" "$SERVER_THREADS" "$CONNECTIONS" "$GET_PROCESSES" "$DURATION" "$EVENTS" "$SEED"
  node bench/realtime/report.js "$results"
} | tee "$BUILD_DIR/bench/realtime.md"
