# Process handling shared by the benchmark scripts: a scratch folder, servers started in the
# background and waited for, and everything they started stopped on exit (also on INT and TERM).
# Source it after scripts/setup.sh (it uses plume_log).

work=$(mktemp -d)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_until_up <pid> <url>: polls the URL for up to 20 s; fails if the process died.
wait_until_up() {
  local pid=$1 url=$2
  for _ in $(seq 200); do
    kill -0 "$pid" 2>/dev/null || { plume_log "server for $url exited"; return 1; }
    curl -sf -o /dev/null "$url" && return 0
    sleep 0.1
  done
  plume_log "no answer from $url"
  return 1
}

# start <name> <url that answers when ready> <command...>: runs a server in the background and
# waits for it; sets pid.
start() {
  local name=$1 ready=$2
  shift 2
  "$@" >"$work/$name.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  wait_until_up "$pid" "$ready" || { cat "$work/$name.log"; exit 1; }
}

stop() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
