#!/usr/bin/env bash
# Runs the chat demo: installs what is missing, builds the `plume` command (Release, Ninja,
# build/), and serves examples/demo/config on http://127.0.0.1:3030 until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

plume_install_packages
PLUME_BUILD_TARGETS=plume_cli plume_build build Release

mkdir -p examples/demo/data
port=${PLUME_PORT:-3030}
url="http://127.0.0.1:$port"
cat <<TRY

Plume demo on $url  (page: $url/ , stop with Ctrl-C). Try:

  curl -s $url/healthz
  curl -s -X POST $url/messages -H 'Content-Type: application/json' -d '{"text":"Hello Plume","userId":1}'
  curl -sg '$url/messages?\$sort[createdAt]=-1&\$limit=5'
  curl -sg '$url/messages?userId=1&\$select[]=text'
  curl -s -X POST $url/todos -H 'Content-Type: application/json' -d '[{"title":"Write docs","priority":2},{"title":"Ship","priority":5,"done":true}]'
  curl -sg '$url/todos?priority[\$gte]=2&done=false'
  curl -s -X PATCH $url/todos/1 -H 'Content-Type: application/json' -d '{"done":true}'
  curl -s $url/messages/999          # 404 NotFound, Feathers' error shape
  curl -s $url/metrics | head

TRY
exec build/plume serve --config examples/demo/config
