#!/bin/sh
# Installs what the tests need and is missing: Debian's Chromium and redis-server, and the vendors'
# SDKs from npm (tests/e2e/package-lock.json). Idempotent; `make test` runs it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)

if [ ! -x /usr/bin/chromium ]; then
    apt-get update
    apt-get install -y chromium
fi

if [ ! -x /usr/bin/redis-server ]; then
    apt-get update
    apt-get install -y redis-server
fi

if [ ! -d "$here/e2e/node_modules" ]; then
    (cd "$here/e2e" && npm ci --no-audit --no-fund)
fi
