#!/bin/sh
# Installs what the end-to-end tests need and is missing: Debian's Chromium, and the vendors'
# SDKs from npm (tests/e2e/package-lock.json). Idempotent; `make test` runs it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)

if [ ! -x /usr/bin/chromium ]; then
    apt-get update
    apt-get install -y chromium
fi

if [ ! -d "$here/e2e/node_modules" ]; then
    (cd "$here/e2e" && npm ci --no-audit --no-fund)
fi
