#!/usr/bin/env bash
# Runs the chat demo: installs what is missing, builds the `plume` command (Release, Ninja,
# build/), fetches the page's browser builds of the Feathers client, and serves
# examples/demo/config on http://127.0.0.1:3030 until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

plume_install_packages
PLUME_BUILD_TARGETS=plume_cli plume_build build Release
plume_demo_vendor

mkdir -p examples/demo/data
# The JWT secret: PLUME_AUTH_SECRET when set, else a random one made on the first run and kept
# (outside git) so that logins survive a restart.
if [ -z "${PLUME_AUTH_SECRET:-}" ]; then
  secret_file=examples/demo/data/.secret
  if [ ! -s "$secret_file" ]; then
    (umask 077 && openssl rand -base64 48 | tr -d '\n' >"$secret_file")
  fi
  PLUME_AUTH_SECRET=$(cat "$secret_file")
  export PLUME_AUTH_SECRET
fi
port=${PLUME_PORT:-3030}
url="http://127.0.0.1:$port"
cat <<TRY

Plume chat on $url/ : sign up in two browser windows and chat (stop with Ctrl-C). Or try:

  curl -s $url/healthz
  curl -s -X POST $url/users -H 'Content-Type: application/json' -d '{"email":"ada@example.com","password":"correct horse"}'
  token=\$(curl -s -X POST $url/authentication -H 'Content-Type: application/json' \\
    -d '{"strategy":"local","email":"ada@example.com","password":"correct horse"}' | sed -E 's/.*"accessToken":"([^"]+)".*/\\1/')
  curl -s -X POST $url/messages -H "Authorization: Bearer \$token" -H 'Content-Type: application/json' -d '{"text":"Hello Plume","userId":1}'
  curl -sg '$url/messages?\$sort[createdAt]=-1&\$limit=5' -H "Authorization: Bearer \$token"
  curl -s $url/messages              # 401 NotAuthenticated without a token
  curl -s -X POST $url/todos -H 'Content-Type: application/json' -d '[{"title":"Write docs","priority":2},{"title":"Ship","priority":5,"done":true}]'
  curl -sg '$url/todos?priority[\$gte]=2&done=false'
  curl -s -X PATCH $url/todos/1 -H 'Content-Type: application/json' -d '{"done":true}'
  curl -s $url/todos/999             # 404 NotFound, Feathers' error shape
  curl -s $url/metrics | head

TRY
exec build/plume serve --config examples/demo/config
