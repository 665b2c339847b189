#!/usr/bin/env bash
# Memory per active key (issue #15): the gateway in-process against Azurite (in memory, started here), N keys issued
# in bulk and each called once, the live managed heap after full collections against the same gateway with one key.
#   bash bench/key-memory.sh                 # 1,000, 10,000 and 100,000 keys
#   KEYS=1000,10000 bash bench/key-memory.sh
set -euo pipefail
cd "$(dirname "$0")/.."
KEYS=${KEYS:-1000,10000,100000}
[[ -d node_modules/azurite ]] || npm ci --no-audit --no-fund
azurite=node_modules/azurite/dist/src/table/main.js
[[ -f $azurite ]] || azurite=node_modules/azurite/dist/src/azurite-table.js
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
node "$azurite" --tableHost 127.0.0.1 --tablePort "$port" --inMemoryPersistence --skipApiVersionCheck --loose --silent &
azurite_pid=$!
trap 'kill $azurite_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.2; done
dotnet build bench/Gateway.Benchmarks -c Release --nologo -v q >/dev/null
storage="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:$port/devstoreaccount1;"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
dotnet bench/Gateway.Benchmarks/bin/Release/net10.0/Gateway.Benchmarks.dll key-memory "$storage" "$KEYS"
