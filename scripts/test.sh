#!/usr/bin/env bash
# Runs every test. The tests start their own Azurite (random port, in memory) and their own upstream servers,
# so nothing needs to be running first.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -d node_modules/azurite ] && [ -d node_modules/esbuild ] && [ -d node_modules/axe-core ] || npm ci --no-audit --no-fund
dotnet test Gateway.sln -c Release --nologo --logger "console;verbosity=normal" --blame-hang-timeout 3m "$@"
