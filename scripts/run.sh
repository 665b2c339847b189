#!/usr/bin/env bash
# Runs the whole gateway on one machine with local defaults:
# Azurite (Table Storage, data in .azurite/), the demo upstream on :5080, the gateway on :8080 (API) and :8081 (admin).
# Ctrl+C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -d node_modules/azurite ] || npm ci --no-audit --no-fund
dotnet build proxy/Gateway.Proxy.csproj -c Release -nologo -v quiet
dotnet build demo/Gateway.DemoUpstream.csproj -c Release -nologo -v quiet

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

mkdir -p .azurite
node node_modules/azurite/dist/src/table/main.js --tableHost 127.0.0.1 --tablePort 10002 \
  --location .azurite --skipApiVersionCheck --loose --silent &
pids+=($!)

dotnet demo/bin/Release/net10.0/Gateway.DemoUpstream.dll --Urls http://localhost:5080 &
pids+=($!)

for _ in $(seq 1 50); do (echo > /dev/tcp/127.0.0.1/10002) 2>/dev/null && break; sleep 0.2; done

cd proxy
ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Development}" dotnet bin/Release/net10.0/Gateway.Proxy.dll &
pids+=($!)
wait -n "${pids[@]}"
