#!/usr/bin/env bash
# Mutation testing (Stryker.NET, pinned in .config/dotnet-tools.json) of the code that holds the gateway's guarantees:
# key verification and cache, admission, token bucket, quota ledger, usage counters and flush, usage table, key format.
# One configuration per scope in tests/mutation/stryker-<scope>.json: the files it mutates and a test filter that
# selects the tests covering them (coverage per test, so each mutant runs only the tests that reach it).
#   bash scripts/mutation.sh                 # the scopes with unit and storage tests (core, proxy-units), ~30 min on 2 cores
#   bash scripts/mutation.sh proxy-admission # one scope; proxy-flush, proxy-admission, proxy-keys run HTTP tests: hours
#   bash scripts/mutation.sh all             # every scope
# Too slow for every CI run. Reports (JSON, Markdown) go to tests/mutation/out/<scope>/; record the scores in
# tests/README.md ("Mutation testing").
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules/azurite ] || npm ci --no-audit --no-fund
dotnet tool restore >/dev/null
# Restore and build first: Stryker analyses the projects (Buildalyzer, a design-time build that does not restore)
# before its own build, so a stale obj/project.assets.json gives its Roslyn compilation a stale package graph
# (CS0246 for packages added since, e.g. OpenTelemetry in proxy/Telemetry).
dotnet build tests/Gateway.Tests -c Release -nologo -v quiet
case "${1:-quick}" in
  quick) scopes=(core proxy-units) ;;
  all) scopes=(core proxy-units proxy-flush proxy-admission proxy-keys) ;;
  *) scopes=("$@") ;;
esac
for scope in "${scopes[@]}"; do
  started=$(date +%s)
  (cd tests/mutation && timeout "${MUTATION_TIMEOUT:-10800}" dotnet tool run dotnet-stryker \
    --config-file "stryker-$scope.json" --output "out/$scope")
  echo "mutation: $scope took $(( $(date +%s) - started )) s; report: tests/mutation/out/$scope/reports/mutation-report.md"
done
