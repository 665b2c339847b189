#!/usr/bin/env bash
# Mutation testing (Stryker.NET, pinned in .config/dotnet-tools.json) of the code that holds the gateway's guarantees:
# key verification and cache, admission, token bucket, quota ledger, usage counters and flush, usage table, key format.
# Too slow for every CI run: the integration tests cover most mutants, so "full" runs for hours on 2 cores.
#   bash scripts/mutation.sh quick   # pure types with their unit and contention tests, minutes
#   bash scripts/mutation.sh full    # the whole scope against every test but the end-to-end ones
# Reports (HTML/JSON/Markdown) go to tests/mutation/out/; record the score and date in tests/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scope=${1:-quick}
[ -d node_modules/azurite ] || npm ci --no-audit --no-fund
dotnet tool restore >/dev/null
for project in core proxy; do
  (cd tests/mutation && dotnet tool run dotnet-stryker --config-file "stryker-$project-$scope.json" --output "out/$project-$scope")
done
