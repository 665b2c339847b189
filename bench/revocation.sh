#!/usr/bin/env bash
# Revocation delay with three gateway processes on one machine (issue 13's revocation fault test, full size).
# Starts Azurite (in memory), the demo upstream, the Service Bus test broker and three gateways, each with its own
# subscription on key-changes; then bench/revocation.py puts load on a key through all three and revokes it through
# one admin port, ROUNDS times (rotating the admin port). Phase 2 stops the broker and does it again: the bound is
# then Gateway:Keys:CacheRefresh (CACHE_REFRESH_SECONDS) plus one storage read (1 s allowed), and no call may fail.
# Prints per-round and summary lines; exit status 1 if any bound was broken or any call got a 5xx.
#
# Environment: ROUNDS (9), DOWN_ROUNDS (3), WORKERS per gateway (4), CACHE_REFRESH_SECONDS (5), BASE_PORT (18080:
# gateways on BASE_PORT..+5, demo +10, Azurite +11, broker +12), BUILD=0 to skip the Release build.
set -euo pipefail
cd "$(dirname "$0")/.." || exit 1

rounds=${ROUNDS:-9}
down_rounds=${DOWN_ROUNDS:-3}
workers=${WORKERS:-4}
refresh=${CACHE_REFRESH_SECONDS:-5}
base=${BASE_PORT:-18080}
demo_port=$((base + 10)) azurite_port=$((base + 11)) broker_port=$((base + 12))
token=bench-admin-token-0123456789
logs=$(mktemp -d)
pids=()

say() { printf 'revocation.sh: %s\n' "$*" >&2; }
port_in_use() { (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null; }
wait_port() { # port, what, pid
  for _ in $(seq 1 300); do
    port_in_use "$1" && return 0
    kill -0 "$3" 2> /dev/null || { say "$2 exited; its log:"; cat "$logs/$2.log" >&2; return 1; }
    sleep 0.1
  done
  say "$2 did not listen on $1 within 30 s"; return 1
}
stop() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2> /dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2> /dev/null || true; done
  say "logs in $logs"
}
trap stop EXIT

if [[ ${BUILD:-1} != 0 ]]; then
  dotnet build Gateway.sln -c Release -nologo -v quiet > "$logs/build.log" 2>&1 || { cat "$logs/build.log" >&2; exit 1; }
fi

node node_modules/azurite/dist/src/table/main.js --tableHost 127.0.0.1 --tablePort "$azurite_port" --inMemoryPersistence \
  --skipApiVersionCheck --loose --silent --disableTelemetry > "$logs/azurite.log" 2>&1 &
pids+=($!)
wait_port "$azurite_port" azurite "$!"

dotnet demo/bin/Release/net10.0/Gateway.DemoUpstream.dll --Urls "http://127.0.0.1:$demo_port" > "$logs/demo.log" 2>&1 &
pids+=($!)
wait_port "$demo_port" demo "$!"

dotnet servicebus-broker/bin/Release/net10.0/Gateway.ServiceBusBroker.dll --port "$broker_port" --topic key-changes \
  --subscription key-changes/gateway-1 --subscription key-changes/gateway-2 --subscription key-changes/gateway-3 > "$logs/broker.log" 2>&1 &
broker_pid=$!
pids+=("$broker_pid")
wait_port "$broker_port" broker "$broker_pid"

storage="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:$azurite_port/devstoreaccount1;"
bus="Endpoint=sb://127.0.0.1:$broker_port;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true"
gateways=()
for i in 1 2 3; do
  data=$((base + 2 * (i - 1))) admin=$((base + 2 * (i - 1) + 1))
  (cd proxy && ASPNETCORE_ENVIRONMENT=Development exec dotnet bin/Release/net10.0/Gateway.Proxy.dll \
    --Gateway:Listen:Address=127.0.0.1 --Gateway:Listen:DataPort="$data" --Gateway:Listen:AdminPort="$admin" \
    --Gateway:Storage:ConnectionString="$storage" --Gateway:Admin:Token="$token" \
    --ReverseProxy:Clusters:social:Destinations:upstream:Address="http://127.0.0.1:$demo_port/" \
    --Gateway:ServiceBus:ConnectionString="$bus" --Gateway:ServiceBus:Subscription="gateway-$i" \
    --Gateway:Metering:InstanceId="gateway-$i" \
    --Gateway:Keys:CacheRefresh="00:00:$(printf '%02d' "$refresh")" \
    --Gateway:Plans:basic:RequestsPerSecond=1000000 --Gateway:Plans:basic:Burst=1000000 \
    --Gateway:Plans:basic:MonthlyQuota=1000000000 --Logging:LogLevel:Default=Warning) > "$logs/gateway-$i.log" 2>&1 &
  pids+=($!)
  gateways+=("127.0.0.1:$data:$admin")
done
for i in 1 2 3; do wait_port "$((base + 2 * (i - 1)))" "gateway-$i" "${pids[$((i + 2))]}"; done
list=$(IFS=,; echo "${gateways[*]}")
say "3 gateways (${list}), broker :$broker_port, Azurite :$azurite_port, demo :$demo_port; machine $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"

status=0
python3 bench/revocation.py --gateways "$list" --token "$token" --rounds "$rounds" --workers "$workers" \
  --after 2 --bound 1 --title "broker up" || status=1

say "stopping the broker (pid $broker_pid): Service Bus unreachable from here on"
kill -TERM "$broker_pid"
wait "$broker_pid" 2> /dev/null || true
sleep 1
python3 bench/revocation.py --gateways "$list" --token "$token" --rounds "$down_rounds" --workers "$workers" \
  --after "$((refresh + 2))" --bound "$((refresh + 1))" --title "broker down, CacheRefresh ${refresh} s" || status=1
say "load average $(cut -d' ' -f1-3 /proc/loadavg)"
exit $status
