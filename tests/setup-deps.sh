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

# The lossy-path fault test: ip and tc for a network namespace, iptables where the kernel has
# no netem.
if ! command -v ip >/dev/null 2>&1 || ! command -v tc >/dev/null 2>&1; then
    apt-get update
    apt-get install -y iproute2
fi

if ! command -v iptables >/dev/null 2>&1; then
    apt-get update
    apt-get install -y iptables
fi
