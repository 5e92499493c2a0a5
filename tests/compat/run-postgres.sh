#!/usr/bin/env bash
# The Feathers REST client compatibility tests (tests/compat/*.test.js) against services stored
# in PostgreSQL: starts a private PostgreSQL 15 (initdb into a temporary directory, a free
# loopback port), runs the suite with PLUME_COMPAT_DATABASE pointing at it (lib/plume.js then
# turns every SQLite database of the test configurations into a PostgreSQL one), and removes
# everything afterwards. PostgreSQL refuses to run as root: under root the server runs as the
# postgres system user (or nobody).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin=${PLUME_POSTGRES_BIN:-/usr/lib/postgresql/15/bin}
[[ -x $bin/postgres ]] || { echo "PostgreSQL 15 not found in $bin (apt-get install postgresql-15)" >&2; exit 1; }

dir=$(mktemp -d /tmp/plume-compat-pg-XXXXXX)
as_server=()
if [[ $(id -u) == 0 ]]; then
  user=postgres
  id -u "$user" > /dev/null 2>&1 || user=nobody
  chown "$(id -u "$user"):$(id -g "$user")" "$dir"
  as_server=(setpriv --reuid="$(id -u "$user")" --regid="$(id -g "$user")" --clear-groups)
fi

cleanup() {
  "${as_server[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop > /dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
(cd / && "${as_server[@]}" "$bin/initdb" -D "$dir/data" -U plume --auth=trust --encoding=UTF8 --locale=C \
  --no-sync --no-instructions > "$dir/initdb.log")
(cd / && "${as_server[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=300") \
  > /dev/null || { cat "$dir/postgres.log" >&2; exit 1; }

export PLUME_COMPAT_DATABASE="postgres://plume@127.0.0.1:$port/postgres"
export PLUME_COMPAT_PSQL="$bin/psql"
cd "$here"
node --test ./*.test.js
