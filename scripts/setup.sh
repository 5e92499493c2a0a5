#!/usr/bin/env bash
# Shared setup for demo.sh, test.sh and bench/run.sh: installs the Debian 12 packages the build
# needs (only those missing), Node.js when absent, the npm packages of the Node tests and the
# benchmark, and configures + builds a tree. Source it, then call the functions.
#
#   source scripts/setup.sh
#   plume_install_packages            # build dependencies
#   plume_npm_install tests/compat    # npm ci when a lock file exists, else npm install
#   plume_demo_vendor                 # the demo page's browser builds of the Feathers client
#   plume_install_chromium            # Debian's chromium, for the browser test
#   plume_build build Release [extra cmake args...]

PLUME_ROOT=${PLUME_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
PLUME_JOBS=${PLUME_JOBS:-2}
# ccache hashes paths under the repository relative to it, so clones in other folders (CI) hit
# the same cache entries.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PLUME_ROOT}

PLUME_BUILD_PACKAGES=(
  cmake ninja-build ccache g++ pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libsqlite3-dev libssl-dev libyaml-cpp-dev libcli11-dev libspdlog-dev libcrypt-dev
  libhiredis-dev libpq-dev libre2-dev redis-server redis-tools postgresql postgresql-client
  libgtest-dev libbenchmark-dev python3
)

plume_log() { printf '==> %s\n' "$*" >&2; }

# Runs a command as root: directly when we are root, else through sudo.
plume_as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    plume_log "need root to run: $* (install sudo or run as root)"
    return 1
  fi
}

plume_package_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

# Installs the named Debian packages that are not installed yet. `apt-get update` runs only when
# something is missing, so a machine that has everything does not touch the network.
plume_apt_install() {
  local missing=()
  local package
  for package in "$@"; do
    plume_package_installed "$package" || missing+=("$package")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  plume_log "installing: ${missing[*]}"
  plume_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  plume_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# Node.js: the machine may already have Node 20 from another source (with npm bundled); only
# Debian's nodejs/npm are installed, and only when the commands are absent.
plume_install_node() {
  local wanted=()
  command -v node >/dev/null 2>&1 || wanted+=(nodejs)
  command -v npm >/dev/null 2>&1 || wanted+=(npm)
  if [ ${#wanted[@]} -gt 0 ]; then
    plume_apt_install "${wanted[@]}"
  fi
}

plume_install_packages() {
  plume_apt_install "${PLUME_BUILD_PACKAGES[@]}"
  plume_install_node
}

# npm packages of a folder (tests/compat, bench): `npm ci` reproduces the committed lock file;
# skipped when node_modules is already up to date with it.
plume_npm_install() {
  local dir="$PLUME_ROOT/$1"
  [ -f "$dir/package.json" ] || return 0
  if [ -f "$dir/package-lock.json" ]; then
    if [ -f "$dir/node_modules/.package-lock.json" ] &&
      [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
      return 0
    fi
    plume_log "npm ci in $1"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  else
    plume_log "npm install in $1"
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error)
  fi
}

# The chat page loads the official clients' browser builds from its own public dir (no CDN at
# run time): the UMD bundle of @feathersjs/client (Feathers, Socket.io and authentication
# clients) and socket.io-client's, from the npm packages locked in examples/demo.
plume_demo_vendor() {
  plume_npm_install examples/demo || return 1
  local modules="$PLUME_ROOT/examples/demo/node_modules"
  local vendor="$PLUME_ROOT/examples/demo/public/vendor"
  mkdir -p "$vendor"
  cp "$modules/@feathersjs/client/dist/feathers.min.js" \
    "$modules/@feathersjs/client/dist/feathers.min.js.LICENSE.txt" \
    "$modules/socket.io-client/dist/socket.io.min.js" "$vendor/"
}

# The browser test drives Debian's chromium through playwright-core (which downloads no browser
# of its own).
plume_install_chromium() {
  command -v chromium >/dev/null 2>&1 || plume_apt_install chromium
}

# plume_build <dir> <build type> [cmake args...]: configures and builds with Ninja, at most
# PLUME_JOBS jobs (2 by default: the CI machine has 2 cores). PLUME_BUILD_TARGETS limits the
# build to some targets (space-separated); empty builds everything.
plume_build() {
  local dir="$1" type="$2"
  [[ $dir = /* ]] || dir="$PLUME_ROOT/$dir"
  shift 2
  local targets=()
  local target
  for target in ${PLUME_BUILD_TARGETS:-}; do
    targets+=(--target "$target")
  done
  plume_log "building ${dir#"$PLUME_ROOT"/} ($type${PLUME_BUILD_TARGETS:+: $PLUME_BUILD_TARGETS})"
  cmake -S "$PLUME_ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$type" -DBoost_NO_WARN_NEW_VERSIONS=ON "$@" >/dev/null
  cmake --build "$dir" -j "$PLUME_JOBS" "${targets[@]}"
}
