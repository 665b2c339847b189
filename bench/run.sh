#!/usr/bin/env bash
# Side-by-side benchmark: the full gateway vs plain YARP vs the upstream called directly. See bench/README.md.
#
#   bash bench/run.sh            full run: 3 sessions (~11 min), then key/route-group scaling (~6 min)
#   bash bench/run.sh --smoke    one short session (~3-5 minutes), the CI gate; exit 1 unless (gateway vs plain YARP,
#                                medians of the rounds) CPU/request <= SMOKE_CPU_LIMIT, requests/s >= SMOKE_FLOOR,
#                                extra allocation <= 256 B/request, storage <= 0.01 requests/request, no non-2xx, and
#                                with SMOKE_KEYS keys the many-keys limits hold (see bench/README.md, "The smoke check")
#
# Every setting below can be overridden by an environment variable of the same name (e.g. SESSIONS=5).
# Pinning (2-core machine): the two proxies under test run on CPU 1 (PROXY_CPU); the upstream, wrk, the latency
# client and Azurite share CPU 0 (LOAD_CPU). Only one proxy is loaded at a time, so each one has CPU 1 to itself
# while measured, and the load side cannot steal cycles from it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

SMOKE=${SMOKE:-0}
[[ "${1:-}" == "--smoke" ]] && SMOKE=1
if [[ $SMOKE == 1 ]]; then
  # Warm-up: 3 blocks of 10 s per proxy, alternating. With one 10 s block the gateway's first rounds still ran partly
  # un-tiered code: both proxies got faster round after round for about a minute under load (the tier-1 JIT shares the
  # single proxy CPU with the requests), the gateway longer, and early rounds put the CPU median at 1.46-1.57 on a
  # slow day against 1.2-1.3 once steady (bench/README.md, "How the limits were chosen").
  : "${SESSIONS:=1}" "${ROUNDS:=8}" "${ROUND_SECONDS:=2}" "${WARM_SECONDS:=10}" "${WARM_BLOCKS:=3}" "${LATENCY_ROUNDS:=0}" "${SCALING:=0}"
  # Only the two proxies the gates compare. A direct-upstream round (30,000+ requests/s through the upstream and wrk
  # on the load CPU) left the next proxy round slow in every smoke run (0.4-1.7x CPU/request), wasting 2 of 6 rounds.
  : "${TARGETS:=plain gateway}"
  # A small many-keys case, so a per-key cost (storage requests, allocation) that grows fails CI. 0 skips it.
  : "${SMOKE_KEYS:=2000}"
fi
SESSIONS=${SESSIONS:-3}
TARGETS=${TARGETS:-direct plain gateway}
ROUNDS=${ROUNDS:-10}
ROUND_SECONDS=${ROUND_SECONDS:-3}
WARM_SECONDS=${WARM_SECONDS:-10}
WARM_BLOCKS=${WARM_BLOCKS:-3}   # warm-up blocks of WARM_SECONDS per target, alternating targets
LATENCY_ROUNDS=${LATENCY_ROUNDS:-6}
LATENCY_SECONDS=${LATENCY_SECONDS:-3}
SCALING=${SCALING:-1}
# 100,000 keys work (SCALING_KEYS="1000 100000"): they are created through POST /admin/v1/keys/bulk, 100,000 in
# about 30 s on a quiet machine (bench/RESULTS.md, "Bulk key provisioning").
SCALING_KEYS=${SCALING_KEYS:-"1000 10000"}
SCALING_ROUNDS=${SCALING_ROUNDS:-5}
CONNECTIONS=${CONNECTIONS:-32}
JOURNAL=${JOURNAL:-1}           # the gateway's usage journal (its default); 0 measures the in-memory path
PROXY_CPU=${PROXY_CPU:-1}
LOAD_CPU=${LOAD_CPU:-0}
# The smoke's limits; why these figures: bench/README.md, "The smoke check and CI".
SMOKE_FLOOR=${SMOKE_FLOOR:-0.65}
SMOKE_CPU_LIMIT=${SMOKE_CPU_LIMIT:-1.5}
SMOKE_KEYS=${SMOKE_KEYS:-0}
SMOKE_KEYS_ROUNDS=${SMOKE_KEYS_ROUNDS:-3}
SMOKE_KEYS_ROUND_SECONDS=${SMOKE_KEYS_ROUND_SECONDS:-4}
SMOKE_KEYS_RATE=${SMOKE_KEYS_RATE:-1000}        # requests/s, open loop: with 2,000 keys each calls once per 2 s flush
SMOKE_KEYS_WARM_SECONDS=${SMOKE_KEYS_WARM_SECONDS:-4}
SMOKE_KEYS_ALLOC_LIMIT=${SMOKE_KEYS_ALLOC_LIMIT:-98304}
SMOKE_KEYS_STORAGE_LIMIT=${SMOKE_KEYS_STORAGE_LIMIT:-0.03}

TOKEN=bench-admin-token-0123456789
POSTS=/v1/posts/42
# RECORDS=1: the measured path is a ~2 KB JSON page of 12 posts from the archive, whose record ids the gateway reads
# (Gateway:Compliance:Routes:archive:RecordIdPath = $.data[*].id): the cost of counting records delivered.
RECORDS=${RECORDS:-0}
[[ $RECORDS == 1 ]] && POSTS="/v1/archive?limit=12"
ALL_GROUPS="/v1/posts/42,/v1/search?q=river&limit=1,/v1/users/7/posts?limit=1,/v1/archive?limit=1"
out=$root/bench/out
mkdir -p "$out"
results=$out/results.tsv
: >"$results"
hz=$(getconf CLK_TCK)

command -v wrk >/dev/null || { echo "wrk is missing: apt-get update && apt-get install -y wrk" >&2; exit 1; }
command -v taskset >/dev/null || { echo "taskset is missing (util-linux)" >&2; exit 1; }
command -v ss >/dev/null || { echo "ss is missing (iproute2): needed to check which process listens on a port" >&2; exit 1; }

# Free ports, chosen together (all held open until every one is picked, so no two are the same). Another process
# could still take one before ours binds it; wait_port then sees a stranger listening and stops the run.
read -r AZURITE_PORT UPSTREAM_PORT GATEWAY_PORT ADMIN_PORT PLAIN_PORT PLAIN_STATS_PORT < <(python3 -c '
import socket
held = []
for _ in range(6):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    held.append(s)
print(" ".join(str(s.getsockname()[1]) for s in held))')
[[ -d node_modules/azurite ]] || npm ci --no-audit --no-fund
# Azurite 3.37 ships the table service as dist/src/table/main.js (its "azurite-table" bin); older ones as azurite-table.js.
azurite=node_modules/azurite/dist/src/table/main.js
[[ -f $azurite ]] || azurite=node_modules/azurite/dist/src/azurite-table.js

echo "== Build (Release)"
for project in proxy demo bench/PlainYarp bench/LatencyClient; do  # only what runs here (the tests build elsewhere)
  dotnet build "$project" -c Release -nologo -v quiet "-clp:ErrorsOnly;NoSummary"
done
bin() { echo "$root/$1/bin/Release/net10.0/$2.dll"; }

pids=()
stop_all() { # newest first, so the gateway's last usage flush still finds Azurite up
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  pids=()
}
trap stop_all EXIT INT TERM

# Waits until the process with this pid listens on the port. Any other listener (a stranger that took the port) is
# an error, not a success: we would measure the wrong process. The listening socket's inode (ss -e) must be one of
# the process's open files; ss -p's own process column is not used, it came back empty once for our gateway.
wait_port() { # pid port seconds
  local pid=$1 port=$2 inode fd
  for _ in $(seq 1 $(($3 * 10))); do
    kill -0 "$pid" 2>/dev/null || { echo "process $pid exited before listening on port $port" >&2; return 1; }
    inode=$(ss -Hltne "sport = :$port" 2>/dev/null | grep -o 'ino:[0-9]*' | head -1 | cut -d: -f2 || true)
    if [[ -n $inode ]]; then
      for fd in /proc/"$pid"/fd/*; do
        [[ $(readlink "$fd" 2>/dev/null) == "socket:[$inode]" ]] && return 0
      done
      echo "port $port is taken by another process, not ours ($pid): $(ss -Hltnp "sport = :$port")" >&2; return 1
    fi
    sleep 0.1
  done
  echo "process $pid did not listen on port $port within $3 s" >&2; return 1
}

start_processes() {
  taskset -c "$LOAD_CPU" node "$azurite" --tableHost 127.0.0.1 --tablePort $AZURITE_PORT \
    --inMemoryPersistence --skipApiVersionCheck --loose --silent &
  azurite_pid=$!; pids+=($!)
  taskset -c "$LOAD_CPU" dotnet "$(bin demo Gateway.DemoUpstream)" --Urls "http://127.0.0.1:$UPSTREAM_PORT" >"$out/upstream.log" 2>&1 &
  upstream_pid=$!; pids+=($!)
  wait_port "$azurite_pid" "$AZURITE_PORT" 30

  local destination="ReverseProxy__Clusters__social__Destinations__upstream__Address=http://127.0.0.1:$UPSTREAM_PORT/"
  env "$destination" taskset -c "$PROXY_CPU" dotnet "$(bin bench/PlainYarp PlainYarp)" \
    --DataPort $PLAIN_PORT --StatsPort $PLAIN_STATS_PORT >"$out/plain.log" 2>&1 &
  plain_pid=$!; pids+=($!)

  # The key-lookup limits are lifted: the many-keys case first uses thousands of new keys from one loopback address,
  # exactly what those limits refuse in production.
  # exec: the subshell becomes the gateway process, so $! is the gateway's pid (for CPU time and for stopping it).
  # Each gateway start its own usage journal (on by default, as in production single-node): a journal left by an
  # earlier session would be replayed into this session's fresh Azurite. JOURNAL=0 measures the in-memory path.
  local journal="$out/journal/$(date +%s%N)"
  local journal_setting="Gateway__Metering__Journal__Path=$journal"
  [[ $JOURNAL == 0 ]] && journal_setting="Gateway__Metering__Journal__Enabled=false"
  local records_setting="Gateway__Compliance__Routes__none__RecordIdPath="
  [[ $RECORDS == 1 ]] && records_setting='Gateway__Compliance__Routes__archive__RecordIdPath=$.data[*].id'
  (cd proxy && exec env "$destination" "$journal_setting" "$records_setting" \
    Gateway__Storage__ConnectionString="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:$AZURITE_PORT/devstoreaccount1;" \
    Gateway__Admin__Token=$TOKEN \
    Gateway__Listen__Address=127.0.0.1 Gateway__Listen__DataPort=$GATEWAY_PORT Gateway__Listen__AdminPort=$ADMIN_PORT \
    Gateway__Plans__enterprise__RequestsPerSecond=10000000 Gateway__Plans__enterprise__Burst=4000 \
    Gateway__Plans__enterprise__MonthlyQuota=100000000000 \
    Gateway__Keys__UnknownKeyReadsPerSecondPerNetwork=1000000 Gateway__Keys__UnknownKeyReadsPerSecond=1000000 \
    taskset -c "$PROXY_CPU" dotnet "$(bin proxy Gateway.Proxy)" >"$out/gateway.log" 2>&1) &
  gateway_pid=$!; pids+=($!)
  wait_port "$upstream_pid" "$UPSTREAM_PORT" 30
  wait_port "$plain_pid" "$PLAIN_PORT" 30; wait_port "$plain_pid" "$PLAIN_STATS_PORT" 30
  wait_port "$gateway_pid" "$GATEWAY_PORT" 60; wait_port "$gateway_pid" "$ADMIN_PORT" 60
}

admin() { # method path [json]
  curl -sf -m 60 -X "$1" "http://127.0.0.1:$ADMIN_PORT$2" -H "Authorization: Bearer $TOKEN" \
    ${3:+-H "Content-Type: application/json" -d "$3"}
}
json_field() { grep -o "\"$1\":[^,}]*" | head -1 | cut -d: -f2- | tr -d '"'; }

create_keys() { # count file
  local customer
  customer=$(admin POST /admin/v1/customers '{"name":"Bench","email":"bench@example.com"}' | json_field id)
  if [[ $1 == 1 ]]; then
    admin POST /admin/v1/keys "{\"customerId\":\"$customer\",\"plan\":\"enterprise\"}" | json_field key >"$2"
  else
    taskset -c "$LOAD_CPU" dotnet "$(bin bench/LatencyClient LatencyClient)" keys --admin "http://127.0.0.1:$ADMIN_PORT" \
      --token $TOKEN --customer "$customer" --plan enterprise --count "$1" --parallel 2 --out "$2"
  fi
}

# Sends every key at least once (each first sight is a storage read): the fixed-rate client walks the key file in
# order, 250 keys a second. (It used wrk's rotation before, which restarts at the first key in every wrk run: with
# 2,000 keys only ~880 were ever sent, and the measured rounds paid for loading the rest.)
warm_keys() { # keys-file count
  local saved=${FIXED_RATE:-}
  FIXED_RATE=250
  fixed_rate_load gateway $((($2 + 249) / 250)) "$1" "$POSTS" >/dev/null
  FIXED_RATE=$saved
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
gateway_stats() { admin GET /admin/v1/stats; }
plain_stats() { curl -sf -m 60 "http://127.0.0.1:$PLAIN_STATS_PORT/stats"; }

url_of() {
  case $1 in
    direct) echo "http://127.0.0.1:$UPSTREAM_PORT" ;;
    plain) echo "http://127.0.0.1:$PLAIN_PORT" ;;
    gateway) echo "http://127.0.0.1:$GATEWAY_PORT" ;;
  esac
}
pid_of() { case $1 in direct) echo "$upstream_pid" ;; plain) echo "$plain_pid" ;; gateway) echo "$gateway_pid" ;; esac; }

load() { # target seconds keys-file paths -> wrk output
  BENCH_KEYS_FILE=$3 BENCH_PATHS=$4 taskset -c "$LOAD_CPU" \
    wrk -t1 -c"$CONNECTIONS" -d"$2"s --timeout 5s -s bench/wrk/keys.lua "$(url_of "$1")"
}

# A fixed number of requests (FIXED_RATE × seconds, open loop, rotating over the keys), so that per-request figures of
# costs that follow time rather than requests (usage flushes, key refreshes) do not depend on how fast the machine is.
# Prints "requests in <seconds>s", "Requests/sec:" and "Non-2xx" lines as wrk does.
fixed_rate_load() { # target seconds keys-file paths
  local line completed errors
  line=$(taskset -c "$LOAD_CPU" dotnet "$(bin bench/LatencyClient LatencyClient)" latency --url "$(url_of "$1")${4%%,*}" \
    --rate "$FIXED_RATE" --duration "$2" --warmup 0 --keys "$3" || true)
  read -r _ _ _ _ completed errors <<<"$line"
  echo "${completed:-0} requests in ${2}s"
  echo "Requests/sec: $(awk -v n="${completed:-0}" -v s="$2" 'BEGIN {print n / s}')"
  echo "Non-2xx or failed requests: ${errors:-0}"
}

run_load() { # target seconds keys-file paths
  if [[ -n ${FIXED_RATE:-} ]]; then fixed_rate_load "$@"; else load "$@"; fi
}

# One measured run of wrk (or, with FIXED_RATE, the fixed-rate client) against one target; appends a row to results.tsv:
# session phase target round requests seconds rps proxy_cpu_s upstream_cpu_s alloc_bytes table_ops storage_requests non2xx
measure() { # session phase target round keys-file paths
  local target=$3 pid a0 a1 t0=0 t1=0 s0=0 s1=0 c0 c1 u0 u1 w
  pid=$(pid_of "$target")
  case $target in
    gateway) a0=$(gateway_stats) ;;
    plain) a0=$(plain_stats) ;;
    direct) a0='{"allocatedBytes":0}' ;;
  esac
  c0=$(cpu_ticks "$pid"); u0=$(cpu_ticks "$upstream_pid")
  w=$(run_load "$target" "$ROUND_SECONDS" "$5" "$6")
  c1=$(cpu_ticks "$pid"); u1=$(cpu_ticks "$upstream_pid")
  case $target in
    gateway) a1=$(gateway_stats) ;;
    plain) a1=$(plain_stats) ;;
    direct) a1='{"allocatedBytes":0}' ;;
  esac
  if [[ $target == gateway ]]; then
    t0=$(json_field tableOperations <<<"$a0"); t1=$(json_field tableOperations <<<"$a1")
    s0=$(json_field storageRequests <<<"$a0"); s1=$(json_field storageRequests <<<"$a1")
  fi
  local requests seconds rps non2xx
  requests=$(awk '/requests in/ {print $1}' <<<"$w")
  seconds=$(awk '/requests in/ {gsub(/[s,]/, "", $4); print $4}' <<<"$w")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$w")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$w"); non2xx=${non2xx:-0}
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$target" "$4" "$requests" "$seconds" "$rps" \
    "$(awk -v a="$c0" -v b="$c1" -v hz="$hz" 'BEGIN {print (b - a) / hz}')" \
    "$(awk -v a="$u0" -v b="$u1" -v hz="$hz" 'BEGIN {print (b - a) / hz}')" \
    "$(($(json_field allocatedBytes <<<"$a1") - $(json_field allocatedBytes <<<"$a0")))" \
    "$((t1 - t0))" "$((s1 - s0))" "$non2xx" | tee -a "$results"
}

# Rounds alternate the order of the targets, so drift (thermal, noisy neighbours) hits each one alike.
rounds() { # session phase count keys-file paths targets...
  local session=$1 phase=$2 count=$3 keys=$4 paths=$5; shift 5
  local targets=("$@") r
  local b
  for b in $(seq 1 "$WARM_BLOCKS"); do
    for t in "${targets[@]}"; do run_load "$t" "$WARM_SECONDS" "$keys" "$paths" >/dev/null; done
  done
  for r in $(seq 1 "$count"); do
    local order=("${targets[@]}")
    (( r % 2 == 0 )) && order=($(printf '%s\n' "${targets[@]}" | tac))
    for t in "${order[@]}"; do measure "$session" "$phase" "$t" "$r" "$keys" "$paths"; done
  done
}

latency_rounds() { # session keys-file
  local rate
  rate=$(awk -F'\t' -v s="$1" '$1 == s && $2 == "1key-1group" && $3 == "plain" {print $7}' "$results" | sort -n |
    awk '{a[NR] = $1} END {print int(a[int((NR + 1) / 2)] / 2)}')
  echo "   latency at $rate requests/s (50 % of plain YARP's median maximum)"
  local key targets=(direct plain gateway) r
  key=$(head -1 "$2")
  for r in $(seq 1 "$LATENCY_ROUNDS"); do
    local order=("${targets[@]}")
    (( r % 2 == 0 )) && order=(gateway plain direct)
    for t in "${order[@]}"; do
      local line
      line=$(taskset -c "$LOAD_CPU" dotnet "$(bin bench/LatencyClient LatencyClient)" latency --url "$(url_of "$t")$POSTS" \
        --rate "$rate" --duration "$LATENCY_SECONDS" --warmup 1 --key "$key" || true)
      printf 'latency\t%s\t%s\t%s\t%s\t%s\n' "$1" "$t" "$r" "$rate" "$line" | tee -a "$out/latency.tsv"
    done
  done
}

: >"$out/latency.tsv"
started=$(date +%s)
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
for session in $(seq 1 "$SESSIONS"); do
  echo "== Session $session of $SESSIONS: fresh Azurite, upstream, plain YARP and gateway"
  start_processes
  create_keys 1 "$out/keys-1.txt"
  echo "   rounds: 1 key, 1 route group"
  rounds "$session" 1key-1group "$ROUNDS" "$out/keys-1.txt" "$POSTS" $TARGETS
  (( LATENCY_ROUNDS > 0 )) && latency_rounds "$session" "$out/keys-1.txt"
  if [[ $SMOKE == 1 ]] && (( SMOKE_KEYS > 0 )); then
    t0=$(date +%s)
    create_keys "$SMOKE_KEYS" "$out/keys-$SMOKE_KEYS.txt"
    echo "   created $SMOKE_KEYS keys in $(($(date +%s) - t0)) s; rounds: $SMOKE_KEYS keys, 1 route group, $SMOKE_KEYS_RATE requests/s"
    warm_keys "$out/keys-$SMOKE_KEYS.txt" "$SMOKE_KEYS"
    # Rounds at a fixed rate: with 2,000 keys and 1,000 requests/s every key calls once per flush interval.
    FIXED_RATE=$SMOKE_KEYS_RATE
    WARM_BLOCKS=1 WARM_SECONDS=$SMOKE_KEYS_WARM_SECONDS ROUND_SECONDS=$SMOKE_KEYS_ROUND_SECONDS \
      rounds "$session" "${SMOKE_KEYS}keys-1group" "$SMOKE_KEYS_ROUNDS" "$out/keys-$SMOKE_KEYS.txt" "$POSTS" plain gateway
    FIXED_RATE=
  fi
  if [[ $SCALING == 1 && $session == "$SESSIONS" ]]; then
    echo "   scaling: 1 key, 4 route groups"
    rounds "$session" 1key-4groups "$SCALING_ROUNDS" "$out/keys-1.txt" "$ALL_GROUPS" plain gateway
    for n in $SCALING_KEYS; do
      t0=$(date +%s)
      create_keys "$n" "$out/keys-$n.txt"
      echo "   created $n keys in $(($(date +%s) - t0)) s; scaling: $n keys, 1 and 4 route groups"
      t0=$(date +%s)
      warm_keys "$out/keys-$n.txt" "$n"
      echo "   sent every key once in $(($(date +%s) - t0)) s"
      rounds "$session" "${n}keys-1group" "$SCALING_ROUNDS" "$out/keys-$n.txt" "$POSTS" plain gateway
      rounds "$session" "${n}keys-4groups" "$SCALING_ROUNDS" "$out/keys-$n.txt" "$ALL_GROUPS" plain gateway
    done
  fi
  stop_all
done
echo "== Done in $(($(date +%s) - started)) s"

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ); duration: $(($(date +%s) - started)) s"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' + uncommitted changes')"
  echo "machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p'); load average at start: $load_at_start, at end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "settings: SESSIONS=$SESSIONS ROUNDS=$ROUNDS ROUND_SECONDS=$ROUND_SECONDS WARM_SECONDS=$WARM_SECONDS WARM_BLOCKS=$WARM_BLOCKS CONNECTIONS=$CONNECTIONS JOURNAL=$JOURNAL LATENCY_ROUNDS=$LATENCY_ROUNDS PROXY_CPU=$PROXY_CPU LOAD_CPU=$LOAD_CPU"
  python3 bench/summarize.py "$results" "$out/latency.tsv"
} | tee "$out/summary.txt"
if [[ $SMOKE == 1 ]]; then
  python3 bench/summarize.py --check "$results" --floor "$SMOKE_FLOOR" --cpu-limit "$SMOKE_CPU_LIMIT" \
    --keys "$SMOKE_KEYS" --keys-alloc-limit "$SMOKE_KEYS_ALLOC_LIMIT" --keys-storage-limit "$SMOKE_KEYS_STORAGE_LIMIT"
fi
