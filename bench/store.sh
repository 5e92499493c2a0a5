#!/usr/bin/env bash
# The stores under REST load: the same messages service on memory, SQLite and PostgreSQL, each
# under wrk for get by id, find with a filter and create; pgbench's select-only rate on the same
# PostgreSQL server is the ceiling for a PostgreSQL-backed call. Prints a markdown table.
#
#   bench/store.sh                    # the table also goes to build/bench/store.md
#   BENCH_DURATION=5s BENCH_CONNECTIONS=32 bench/store.sh
#
# PostgreSQL 15 runs from a temporary directory (initdb) with its default durability settings;
# SQLite runs in WAL mode as plume opens it. Every process it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

DURATION=${BENCH_DURATION:-10s}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
WRK_THREADS=${BENCH_WRK_THREADS:-2}
SERVER_THREADS=${BENCH_SERVER_THREADS:-$(nproc)}
SEED=${BENCH_SEED:-100}
PLUME_BENCH_PORT=${BENCH_PLUME_PORT:-3111}
PG_PORT=${BENCH_PG_PORT:-3112}
PG_BIN=${BENCH_PG_BIN:-/usr/lib/postgresql/15/bin}
BUILD_DIR=${BENCH_BUILD_DIR:-build}   # a Release tree, relative to the repository root

plume_install_packages
plume_apt_install wrk
PLUME_BUILD_TARGETS="plume_cli" plume_build "$BUILD_DIR" Release

source bench/lib.sh

results="$work/results.tsv"
: >"$results"

# PostgreSQL refuses to run as root: the server runs as the postgres system user then.
as_server=()
if [[ $(id -u) == 0 ]]; then
  chown postgres:postgres "$work"
  chmod 755 "$work"
  as_server=(setpriv --reuid=postgres --regid=postgres --clear-groups)
fi
pg_dir="$work/pg"
mkdir -p "$pg_dir"
[[ ${#as_server[@]} == 0 ]] || chown postgres:postgres "$pg_dir"
(cd / && "${as_server[@]}" "$PG_BIN/initdb" -D "$pg_dir/data" -U plume --auth=trust --encoding=UTF8 \
  --locale=C --no-instructions >"$work/initdb.log")
(cd / && exec "${as_server[@]}" "$PG_BIN/postgres" -D "$pg_dir/data" -p "$PG_PORT" -k "$pg_dir" \
  -c listen_addresses=127.0.0.1 -c max_connections=200 >"$work/postgres.log" 2>&1) &
pids+=("$!")
for _ in $(seq 300); do
  "$PG_BIN/pg_isready" -q -h "$pg_dir" -p "$PG_PORT" && break
  sleep 0.1
done
"$PG_BIN/psql" -X -q -h "$pg_dir" -p "$PG_PORT" -U plume -d postgres -c "CREATE DATABASE bench"

# measure <store> <base url>: warm-up, then the three scenarios (reads first: create grows the
# store).
measure() {
  local store=$1 base=$2
  local find_url="$base/messages?userId=3&%24sort%5Bid%5D=-1&%24limit=10"
  wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d2s "$base/messages/1" >/dev/null
  local scenario url script line
  for scenario in "GET /messages/1" "GET /messages?userId=3&\$sort[id]=-1&\$limit=10" "POST /messages"; do
    case $scenario in
      GET\ /messages/1) url="$base/messages/1" script=bench/report.lua ;;
      GET*) url=$find_url script=bench/report.lua ;;
      POST*) url="$base/messages" script=bench/post.lua ;;
    esac
    wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 5s -s "$script" "$url" >"$work/wrk.out" &
    pids+=("$!")
    wait "$!"
    line=$(grep '^RESULT' "$work/wrk.out")
    read -r _ rps p50 p99 errors requests <<<"$line"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$store" "$scenario" "$rps" "$p50" "$p99" "$errors" >>"$results"
    plume_log "$store | $scenario | $rps req/s | p50 $p50 ms | p99 $p99 ms | errors $errors/$requests"
  done
}

# serve <store> <database url or "memory">: the messages service of bench/run.sh on that store.
serve() {
  local store=$1 database=$2
  mkdir -p "$work/$store"
  {
    printf 'name: bench\nhost: 127.0.0.1\nport: %s\nthreads: %s\n' "$PLUME_BENCH_PORT" "$SERVER_THREADS"
    [[ $database == memory ]] || printf 'databases:\n  main: %s\n' "$database"
    cat <<YAML
services:
  messages:
    database: $([[ $database == memory ]] && echo memory || echo main)
    schema:
      text: { type: string, required: true, maxLength: 2000 }
      userId: { type: integer }
      createdAt: { type: string, format: date-time, default: now }
    paginate: { default: 10, max: 50 }
YAML
  } >"$work/$store/default.yaml"
  start "plume-$store" "http://127.0.0.1:$PLUME_BENCH_PORT/readyz" "$BUILD_DIR/plume" serve --config "$work/$store"
  node bench/seed.js "http://127.0.0.1:$PLUME_BENCH_PORT" "$SEED"
  measure "$store" "http://127.0.0.1:$PLUME_BENCH_PORT"
  stop "$pid"
}

serve memory memory
serve sqlite "sqlite://$work/sqlite/bench.db"
serve postgres "postgres://plume@127.0.0.1:$PG_PORT/bench"

# The ceiling: pgbench's select-only script (a primary-key lookup per transaction) with as many
# clients as plume's pool has connections, prepared statements, same server.
"$PG_BIN/pgbench" -h "$pg_dir" -p "$PG_PORT" -U plume -i -q -s 1 bench >"$work/pgbench-init.log" 2>&1
"$PG_BIN/pgbench" -h "$pg_dir" -p "$PG_PORT" -U plume -S -M prepared -c 8 -j "$WRK_THREADS" \
  -T "${DURATION%s}" bench >"$work/pgbench.out" 2>&1
pgbench_tps=$(awk '/^tps = / { print $3 }' "$work/pgbench.out" | tail -1)
plume_log "pgbench -S | $pgbench_tps tps"

mkdir -p "$BUILD_DIR/bench"
{
  printf '%s, %s cores, %s server threads, wrk -t%s -c%s -d%s, %s seeded records; PostgreSQL 15 on loopback, pool of 8\n\n' \
    "$(date -u +%Y-%m-%d)" "$(nproc)" "$SERVER_THREADS" "$WRK_THREADS" "$CONNECTIONS" "$DURATION" "$SEED"
  awk -F'\t' -v pgbench="$pgbench_tps" '
    { store[NR] = $1; scenario[NR] = $2; rps[NR] = $3; p50[NR] = $4; p99[NR] = $5; errors[NR] = $6
      by[$1 "|" $2] = $3 }
    END {
      print "| store | scenario | req/s | p50 ms | p99 ms | vs memory | vs pgbench -S | errors |"
      print "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
      for (i = 1; i <= NR; i++) {
        m = by["memory|" scenario[i]]
        printf "| %s | `%s` | %.0f | %.2f | %.2f | %s | %s | %d |\n", store[i], scenario[i], rps[i], p50[i], p99[i],
          (m > 0 ? sprintf("%.2fx", rps[i] / m) : "-"),
          (store[i] == "postgres" && pgbench > 0 ? sprintf("%.2fx", rps[i] / pgbench) : "-"), errors[i]
      }
      printf "| pgbench -S (ceiling) | `SELECT` by primary key, 8 clients | %.0f | - | - | - | 1.00x | 0 |\n", pgbench
    }' "$results"
} | tee "$BUILD_DIR/bench/store.md"
