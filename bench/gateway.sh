#!/usr/bin/env bash
# The gateway benchmark (about 2 minutes): proxy throughput and latency to one fast upstream
# (bench/beast_minimal), through plume's gateway with no plugins and with JWT auth plus a rate
# limit, through nginx (Debian's package, an equivalent reverse proxy with upstream keep-alive)
# and through http-proxy-middleware on Express. Prints a markdown table.
#
#   bench/gateway.sh
#   BENCH_DURATION=5s BENCH_CONNECTIONS=32 bench/gateway.sh
#
# Every process it starts is stopped on exit, also on failure or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

DURATION=${BENCH_DURATION:-10s}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
WRK_THREADS=${BENCH_WRK_THREADS:-2}
SERVER_THREADS=${BENCH_SERVER_THREADS:-$(nproc)}
UPSTREAM_PORT=${BENCH_UPSTREAM_PORT:-3201}
PLUME_PORT=${BENCH_PLUME_PORT:-3202}
NGINX_PORT=${BENCH_NGINX_PORT:-3203}
HPM_PORT=${BENCH_HPM_PORT:-3204}
BUILD_DIR=${BENCH_BUILD_DIR:-build}   # a Release tree, relative to the repository root
SECRET=bench-gateway-secret

plume_install_packages
plume_apt_install wrk nginx-light
plume_npm_install bench
PLUME_BUILD_TARGETS="plume_cli beast_minimal" plume_build "$BUILD_DIR" Release

source bench/lib.sh

peak_rss_mib() {
  awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"
}

results="$work/results.tsv"
: >"$results"

# measure <target> <scenario> <pid> <url> [header]: warm-up, then one wrk run.
measure() {
  local target=$1 scenario=$2 pid=$3 url=$4 header=${5:-}
  local args=(-t"$WRK_THREADS" -c"$CONNECTIONS" --timeout 5s -s bench/report.lua)
  [ -n "$header" ] && args+=(-H "$header")
  wrk "${args[@]}" -d2s "$url" >/dev/null
  # In the background so that a TERM or INT stops the run at once (bash runs traps during wait).
  wrk "${args[@]}" -d"$DURATION" "$url" >"$work/wrk.out" &
  pids+=("$!")
  wait "$!"
  local line rps p50 p99 errors requests
  line=$(grep '^RESULT' "$work/wrk.out")
  read -r _ rps p50 p99 errors requests <<<"$line"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$target" "$scenario" "$rps" "$p50" "$p99" "$(peak_rss_mib "$pid")" \
    "$errors" >>"$results"
  plume_log "$target | $scenario | $rps req/s | p50 $p50 ms | p99 $p99 ms | errors $errors/$requests"
}

# The upstream: a fixed body from a minimal Beast server, as fast as an upstream gets.
start upstream "http://127.0.0.1:$UPSTREAM_PORT/" "$BUILD_DIR/bench/beast_minimal" --port "$UPSTREAM_PORT" \
  --threads 1
upstream_pid=$pid
measure upstream direct "$upstream_pid" "http://127.0.0.1:$UPSTREAM_PORT/"

# (a) plume's gateway: the same route without plugins and with JWT auth + a rate limit far above
# what the run can reach (so every request pays for the check and none is refused).
mkdir -p "$work/plume"
cat >"$work/plume/default.yaml" <<YAML
name: gateway-bench
host: 127.0.0.1
port: $PLUME_PORT
threads: $SERVER_THREADS
realtime: { enabled: false }
authentication:
  secret: $SECRET
  service: users
  entity: null
gateway:
  proxyTable:
    /plain:
      target: http://127.0.0.1:$UPSTREAM_PORT
      pathRewrite: { "^/plain": "" }
    /secured:
      target: http://127.0.0.1:$UPSTREAM_PORT
      pathRewrite: { "^/secured": "" }
      auth: jwt
      rateLimit: { second: 1000000000, by: consumer, store: local }
YAML
start plume "http://127.0.0.1:$PLUME_PORT/healthz" "$BUILD_DIR/plume" serve --config "$work/plume"
token=$(node -e '
  const crypto = require("node:crypto");
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const head = b64({ alg: "HS256", typ: "access" });
  const body = b64({ iat: now, exp: now + 3600, aud: "https://yourdomain.com", iss: "feathers", sub: "1",
                     jti: crypto.randomUUID() });
  const sig = crypto.createHmac("sha256", process.argv[1]).update(head + "." + body).digest("base64url");
  console.log(head + "." + body + "." + sig);' "$SECRET")
measure plume "no plugins" "$pid" "http://127.0.0.1:$PLUME_PORT/plain/"
measure plume "jwt + rate limit" "$pid" "http://127.0.0.1:$PLUME_PORT/secured/" "Authorization: Bearer $token"
stop "$pid"

# (b) nginx as the equivalent reverse proxy: workers per core, upstream keep-alive, HTTP/1.1 to
# the upstream, no access log (plume's access log is off too).
mkdir -p "$work/nginx/logs"
cat >"$work/nginx/nginx.conf" <<NGINX
worker_processes $SERVER_THREADS;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  upstream backend {
    server 127.0.0.1:$UPSTREAM_PORT;
    keepalive 64;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
    }
  }
}
NGINX
start nginx "http://127.0.0.1:$NGINX_PORT/" /usr/sbin/nginx -p "$work/nginx" -c "$work/nginx/nginx.conf"
measure nginx "no plugins" "$pid" "http://127.0.0.1:$NGINX_PORT/"
stop "$pid"

# (c) http-proxy-middleware on Express (one Node process).
start hpm "http://127.0.0.1:$HPM_PORT/" node bench/gateway/hpm-proxy.js "$HPM_PORT" "http://127.0.0.1:$UPSTREAM_PORT"
measure http-proxy-middleware "no plugins" "$pid" "http://127.0.0.1:$HPM_PORT/"
stop "$pid"

mkdir -p "$BUILD_DIR/bench"
{
  printf '%s, %s cores, %s server threads, wrk -t%s -c%s -d%s, upstream: beast_minimal (1 thread)\n\n' \
    "$(date -u +%Y-%m-%d)" "$(nproc)" "$SERVER_THREADS" "$WRK_THREADS" "$CONNECTIONS" "$DURATION"
  awk -F'\t' '
    { target[NR] = $1; scenario[NR] = $2; rps[NR] = $3; p50[NR] = $4; p99[NR] = $5; rss[NR] = $6; errors[NR] = $7
      if ($2 == "no plugins") by[$1] = $3 }
    END {
      print "| through | scenario | req/s | p50 ms | p99 ms | peak RSS MiB | vs nginx | vs http-proxy-middleware | errors |"
      print "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
      for (i = 1; i <= NR; i++) {
        n = by["nginx"]; h = by["http-proxy-middleware"]
        printf "| %s | %s | %.0f | %.2f | %.2f | %s | %s | %s | %d |\n", target[i], scenario[i], rps[i], p50[i], p99[i],
          rss[i], (n > 0 ? sprintf("%.2fx", rps[i] / n) : "-"), (h > 0 ? sprintf("%.2fx", rps[i] / h) : "-"), errors[i]
      }
    }' "$results"
} | tee "$BUILD_DIR/bench/gateway.md"
