#!/usr/bin/env bash
# One benchmark run, bounded in time (about 2 minutes): plume, the Feathers 5 peer and the minimal
# Beast server, each under wrk on loopback for three scenarios; prints a markdown table.
#
#   bench/run.sh                      # defaults below; the table also goes to build/bench/results.md
#   BENCH_DURATION=5s BENCH_CONNECTIONS=32 bench/run.sh
#
# Every process it starts is stopped on exit, also on failure or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

DURATION=${BENCH_DURATION:-10s}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
WRK_THREADS=${BENCH_WRK_THREADS:-2}
SERVER_THREADS=${BENCH_SERVER_THREADS:-$(nproc)}
SEED=${BENCH_SEED:-100}
PLUME_BENCH_PORT=${BENCH_PLUME_PORT:-3101}
FEATHERS_PORT=${BENCH_FEATHERS_PORT:-3102}
BEAST_PORT=${BENCH_BEAST_PORT:-3103}
BUILD_DIR=${BENCH_BUILD_DIR:-build}   # a Release tree, relative to the repository root

plume_install_packages
plume_apt_install wrk
plume_npm_install bench
PLUME_BUILD_TARGETS="plume_cli beast_minimal" plume_build "$BUILD_DIR" Release

source bench/lib.sh

peak_rss_mib() {
  awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"
}

results="$work/results.tsv"
: >"$results"

# measure <target> <pid> <base url>: warm-up, then the three scenarios.
measure() {
  local target=$1 pid=$2 base=$3
  local find_url="$base/messages?userId=3&%24sort%5Bid%5D=-1&%24limit=10"
  wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d2s "$base/messages/1" >/dev/null
  local scenario url script line
  # Reads first: the create scenario grows the store.
  for scenario in "GET /messages/1" "GET /messages?userId=3&\$sort[id]=-1&\$limit=10" "POST /messages"; do
    case $scenario in
      GET\ /messages/1) url="$base/messages/1" script=bench/report.lua ;;
      GET*) url=$find_url script=bench/report.lua ;;
      POST*) url="$base/messages" script=bench/post.lua ;;
    esac
    # In the background so that a TERM or INT stops the run at once (bash runs traps during wait).
    wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 5s -s "$script" "$url" >"$work/wrk.out" &
    pids+=("$!")
    wait "$!"
    line=$(grep '^RESULT' "$work/wrk.out")
    read -r _ rps p50 p99 errors requests <<<"$line"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$target" "$scenario" "$rps" "$p50" "$p99" \
      "$(peak_rss_mib "$pid")" "$errors" >>"$results"
    plume_log "$target | $scenario | $rps req/s | p50 $p50 ms | p99 $p99 ms | errors $errors/$requests"
  done
}

# (a) plume: a memory messages service with the demo's schema.
mkdir -p "$work/plume"
cat >"$work/plume/default.yaml" <<YAML
name: bench
host: 127.0.0.1
port: $PLUME_BENCH_PORT
threads: $SERVER_THREADS
services:
  messages:
    database: memory
    schema:
      text: { type: string, required: true, maxLength: 2000 }
      userId: { type: integer }
      createdAt: { type: string, format: date-time, default: now }
    paginate: { default: 10, max: 50 }
YAML
start plume "http://127.0.0.1:$PLUME_BENCH_PORT/healthz" "$BUILD_DIR/plume" serve --config "$work/plume"
node bench/seed.js "http://127.0.0.1:$PLUME_BENCH_PORT" "$SEED"
measure plume "$pid" "http://127.0.0.1:$PLUME_BENCH_PORT"
stop "$pid"

# (b) Feathers 5 on Express with the memory adapter (one Node process, as Feathers runs).
start feathers "http://127.0.0.1:$FEATHERS_PORT/messages" node bench/feathers-server.js "$FEATHERS_PORT"
node bench/seed.js "http://127.0.0.1:$FEATHERS_PORT" "$SEED"
measure feathers "$pid" "http://127.0.0.1:$FEATHERS_PORT"
stop "$pid"

# (c) the HTTP ceiling: a fixed body from a minimal Beast server with plume's thread count.
start beast "http://127.0.0.1:$BEAST_PORT/" "$BUILD_DIR/bench/beast_minimal" --port "$BEAST_PORT" --threads "$SERVER_THREADS"
measure beast-minimal "$pid" "http://127.0.0.1:$BEAST_PORT"
stop "$pid"

mkdir -p "$BUILD_DIR/bench"
{
  printf '%s, %s cores, %s server threads, wrk -t%s -c%s -d%s, %s seeded records\n\n' \
    "$(date -u +%Y-%m-%d)" "$(nproc)" "$SERVER_THREADS" "$WRK_THREADS" "$CONNECTIONS" "$DURATION" "$SEED"
  awk -F'\t' '
    { target[NR] = $1; scenario[NR] = $2; rps[NR] = $3; p50[NR] = $4; p99[NR] = $5; rss[NR] = $6; errors[NR] = $7
      by[$1 "|" $2] = $3 }
    END {
      print "| target | scenario | req/s | p50 ms | p99 ms | peak RSS MiB | vs Feathers | vs Beast | errors |"
      print "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
      for (i = 1; i <= NR; i++) {
        f = by["feathers|" scenario[i]]; b = by["beast-minimal|" scenario[i]]
        printf "| %s | `%s` | %.0f | %.2f | %.2f | %s | %s | %s | %d |\n", target[i], scenario[i], rps[i], p50[i], p99[i], rss[i],
          (f > 0 ? sprintf("%.2fx", rps[i] / f) : "-"), (b > 0 ? sprintf("%.2fx", rps[i] / b) : "-"), errors[i]
      }
    }' "$results"
} | tee "$BUILD_DIR/bench/results.md"
