#!/usr/bin/env bash
# Runs the whole gateway on one machine: Azurite (local Table Storage, data in .azurite/), the demo upstream on
# :5080 and the gateway on :8080 (API) and :8081 (admin). Arguments are passed on to the gateway as configuration,
# e.g. `bash scripts/run.sh --Gateway:Metering:FlushInterval=00:00:05`.
#
# Environment overrides: GATEWAY_DATA_PORT (8080), GATEWAY_ADMIN_PORT (8081), DEMO_PORT (5080),
# AZURITE_PORT (10002), AZURITE_LOCATION (.azurite), ASPNETCORE_ENVIRONMENT (Development).
# The gateway's usage journal goes beside Azurite's data ({AZURITE_LOCATION}-journal, e.g. .azurite-journal/):
# it belongs to that storage, and is replayed into it after a crash.
# The demo upstream is not started when a ReverseProxy__Clusters__* environment variable or a
# ReverseProxy:Clusters argument points the gateway at your own API.
#
# Stopping (Ctrl+C, SIGTERM to this script, or SIGTERM to its whole process group) loses nothing acknowledged:
# the gateway stops first and writes its last usage flush while storage is still up, then the demo upstream and
# Azurite stop, Azurite through SIGINT, its graceful path that saves its database (on SIGTERM it would exit
# without saving up to 5 s of writes). Azurite and the demo run in sessions of their own so that a Ctrl+C or a
# group-wide SIGTERM cannot reach them before the gateway has finished. A second Ctrl+C stops everything at once.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

data_port=${GATEWAY_DATA_PORT:-8080}
admin_port=${GATEWAY_ADMIN_PORT:-8081}
demo_port=${DEMO_PORT:-5080}
azurite_port=${AZURITE_PORT:-10002}
azurite_location=${AZURITE_LOCATION:-.azurite}

say() { printf 'run.sh: %s\n' "$*" >&2; }
fail() { say "$*"; exit 1; }
have() { command -v "$1" > /dev/null 2>&1; }
port_in_use() { (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null; }

# --- requirements: say what is missing in one line --------------------------------------------------------------
have dotnet || fail "dotnet is missing: install the .NET 10 SDK (https://dot.net)."
sdk=$(dotnet --version 2> /dev/null) || fail "the .NET 10 SDK is missing: 'dotnet --version' finds no SDK that global.json accepts; install .NET 10 (https://dot.net)."
[[ $sdk =~ ^([0-9]+)\. ]] && ((BASH_REMATCH[1] >= 10)) || fail "the .NET 10 SDK is missing: 'dotnet --version' says $sdk."
have node || fail "node is missing: install Node.js 22 or later (Azurite, the local Table Storage, runs on it)."
have setsid || fail "setsid is missing: install util-linux (run.sh starts Azurite and the demo in sessions of their own)."
if [[ ! -d node_modules/azurite || ! -d node_modules/esbuild ]]; then
  have npm || fail "npm is missing: it comes with Node.js and installs Azurite (npm ci) on first use."
  npm ci --no-audit --no-fund || fail "npm ci failed."
fi
# Azurite 3.37 declares node >= 22 but runs on 20: warn, do not fail.
read -r node_version azurite_node < <(node -p 'process.version + " " + require("./node_modules/azurite/package.json").engines.node')
wanted=${azurite_node//[^0-9.]/}
node_major=${node_version#v} node_major=${node_major%%.*} wanted=${wanted%%.*}
if ((${node_major:-0} < ${wanted:-22})); then
  say "warning: Azurite declares node $azurite_node and this is node $node_version; it runs, but upgrade Node.js when you can."
fi

# --- your API or the demo? ----------------------------------------------------------------------------------------
own_upstream=
for name in $(compgen -e); do
  [[ ${name,,} == reverseproxy__clusters__* ]] && own_upstream="environment variable $name"
done
for arg in "$@"; do
  [[ ${arg,,} == *reverseproxy:clusters* || ${arg,,} == *reverseproxy__clusters* ]] && own_upstream="argument ${arg%%=*}"
done

ports=("$data_port" "$admin_port" "$azurite_port")
[[ -n $own_upstream ]] || ports+=("$demo_port")
busy=()
for port in "${ports[@]}"; do
  port_in_use "$port" && busy+=("$port")
done
((${#busy[@]} == 0)) || fail "in use: port ${busy[*]} (another run.sh, or one killed with -9?); stop it or choose other ports (GATEWAY_DATA_PORT, GATEWAY_ADMIN_PORT, DEMO_PORT, AZURITE_PORT)."

# --- build only what changed --------------------------------------------------------------------------------------
# A stamp in the output folder records the last build by this script; when no source, project or build setting is
# newer (directories count, so deletions do too), the build is skipped. Restore runs only when a project or
# package setting is newer than its restore output.
build_inputs=(core billing compliance controlplane proxy demo portal/src scripts/build-portal.mjs package-lock.json Directory.Build.props Directory.Packages.props global.json .editorconfig)
stamp=proxy/bin/Release/net10.0/.run-sh-build
outputs=(proxy/bin/Release/net10.0/Gateway.Proxy.dll demo/bin/Release/net10.0/Gateway.DemoUpstream.dll)
changed() { # prints the first input newer than $1, if any
  find "${build_inputs[@]}" \( -name bin -o -name obj -o -name node_modules \) -prune -o -newer "$1" -print -quit 2> /dev/null
}
outputs_exist() { for f in "${outputs[@]}" "$stamp"; do [[ -f $f ]] || return 1; done; }
if ! outputs_exist || [[ -n $(changed "$stamp") ]]; then
  restore=--no-restore
  for assets in core/obj/project.assets.json billing/obj/project.assets.json compliance/obj/project.assets.json controlplane/obj/project.assets.json proxy/obj/project.assets.json demo/obj/project.assets.json; do
    if [[ ! -f $assets || -n $(find core/*.csproj billing/*.csproj compliance/*.csproj controlplane/*.csproj proxy/*.csproj demo/*.csproj Directory.*.props global.json -newer "$assets" -print -quit) ]]; then
      restore=
    fi
  done
  mkdir -p "${stamp%/*}" && touch "$stamp.new" # the build's start: what changes while it runs is built next time
  for project in proxy/Gateway.Proxy.csproj demo/Gateway.DemoUpstream.csproj; do
    dotnet build "$project" -c Release -nologo -v quiet $restore || fail "building $project failed."
  done
  mv "$stamp.new" "$stamp"
fi

# --- start: Azurite, the demo upstream, the gateway ----------------------------------------------------------------
# If this script is killed outright (-9), its children get a signal of their own (setpriv --pdeathsig) instead of
# living on without anyone to stop them.
guard_int=() guard_term=()
if have setpriv; then guard_int=(setpriv --pdeathsig INT) guard_term=(setpriv --pdeathsig TERM); fi
# Background jobs of a script start with SIGINT ignored, and node keeps ignoring it until Azurite installs its
# handler: reset it, so that a Ctrl+C during Azurite's start ends it instead of being lost.
if env --default-signal=INT true 2> /dev/null; then guard_int+=(env --default-signal=INT); fi

azurite_pid='' demo_pid='' gateway_pid=''
signals=0
on_signal() {
  signals=$((signals + 1))
  if ((signals == 1)); then
    say "stopping: the gateway first (last usage flush), then the demo upstream and Azurite (saves its data); Ctrl+C again forces it."
  else
    say "forced stop: usage counted since the last flush and Azurite's unsaved writes (up to 5 s) may be lost."
    for pid in $gateway_pid $demo_pid $azurite_pid; do kill -KILL "$pid" 2> /dev/null; done
  fi
}
trap on_signal INT TERM HUP

alive() { [[ -n $1 ]] && kill -0 "$1" 2> /dev/null; }
# Waits until a child has exited and sets $reaped to its status; `wait` returns early when a trapped signal
# arrives, so it loops.
reaped=0 killed=0
reap() { reaped=0; while alive "$1"; do wait "$1" 2> /dev/null; reaped=$?; done; }
# Like reap, but kills the child if it is still there after $2 seconds (Azurite saves and exits within about a
# second; this bounds the stop should it hang).
reap_within() {
  alive "$1" || return 0
  sleep "$2" > /dev/null 2>&1 &
  local timer=$! finished=''
  while alive "$1"; do
    wait -n -p finished "$1" "$timer" 2> /dev/null
    if [[ ${finished:-} == "$timer" ]] && alive "$1"; then
      say "$3 did not stop within $2 s; killing it."
      kill -KILL "$1" 2> /dev/null
      killed=1
    fi
  done
  kill "$timer" 2> /dev/null
  wait "$timer" 2> /dev/null
}

stop_all() {
  alive "$gateway_pid" && kill -TERM "$gateway_pid" 2> /dev/null
  reap "$gateway_pid"
  gateway_status=$reaped
  alive "$demo_pid" && kill -TERM "$demo_pid" 2> /dev/null
  alive "$azurite_pid" && kill -INT "$azurite_pid" 2> /dev/null
  reap_within "$demo_pid" 10 "The demo upstream"
  reap_within "$azurite_pid" 10 Azurite
}

mkdir -p "$azurite_location" || fail "cannot create $azurite_location."
# Without job control a background job shares this script's process group; setsid gives it a session of its own
# (setsid execs in place here, so $! is Azurite itself). Telemetry is off: its client keeps Azurite from exiting while
# it tries to reach the network.
setsid "${guard_int[@]}" node node_modules/azurite/dist/src/table/main.js --tableHost 127.0.0.1 \
  --tablePort "$azurite_port" --location "$azurite_location" --skipApiVersionCheck --loose --silent --disableTelemetry < /dev/null &
azurite_pid=$!

if [[ -z $own_upstream ]]; then
  setsid "${guard_term[@]}" dotnet demo/bin/Release/net10.0/Gateway.DemoUpstream.dll --Urls "http://localhost:$demo_port" < /dev/null &
  demo_pid=$!
else
  say "not starting the demo upstream: $own_upstream points the gateway at your API."
fi

for _ in $(seq 1 100); do
  ((signals == 0)) && alive "$azurite_pid" && ! port_in_use "$azurite_port" || break
  sleep 0.1
done

status=0
if ((signals == 0)) && alive "$azurite_pid" && port_in_use "$azurite_port"; then
  say "Azurite (pid $azurite_pid) on 127.0.0.1:$azurite_port, data in $azurite_location${demo_pid:+; demo upstream (pid $demo_pid) on http://localhost:$demo_port}."
  (
    journal_location=$(realpath -m "${azurite_location%/}-journal")
    cd proxy || exit 1
    export Gateway__Metering__Journal__Path=${Gateway__Metering__Journal__Path:-$journal_location}
    export ASPNETCORE_ENVIRONMENT=${ASPNETCORE_ENVIRONMENT:-Development}
    export Gateway__Listen__DataPort=$data_port Gateway__Listen__AdminPort=$admin_port
    export Gateway__Storage__ConnectionString=${Gateway__Storage__ConnectionString:-"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:$azurite_port/devstoreaccount1;"}
    if [[ -z $own_upstream ]]; then
      export ReverseProxy__Clusters__social__Destinations__upstream__Address="http://localhost:$demo_port/"
    fi
    # The gateway stays in this script's process group, so a Ctrl+C or a group-wide SIGTERM may reach it directly:
    # either starts its graceful stop, as does the SIGTERM this script sends; Azurite is out of reach until then.
    # A closed terminal's SIGHUP would end it at once, unflushed: it ignores SIGHUP and this script stops it instead.
    trap '' HUP
    exec "${guard_term[@]}" dotnet bin/Release/net10.0/Gateway.Proxy.dll "$@"
  ) &
  gateway_pid=$!
  say "gateway (pid $gateway_pid): API on http://localhost:$data_port, admin on http://localhost:$admin_port. Ctrl+C stops everything."
elif ((signals == 0)); then
  say "Azurite did not start listening on 127.0.0.1:$azurite_port."
  status=1
fi

# --- run until a signal, or until one of them exits ---------------------------------------------------------------
while ((signals == 0 && status == 0)); do
  exited=''
  wait -n -p exited $gateway_pid $demo_pid $azurite_pid
  code=$?
  if [[ -n ${exited:-} ]]; then
    case $exited in
      "$gateway_pid") say "the gateway exited (status $code)." ;;
      "$demo_pid") say "the demo upstream exited (status $code)." ;;
      *) say "Azurite exited (status $code)." ;;
    esac
    status=$((code == 0 ? 1 : code))
  fi
done

gateway_status=0
stop_all
trap - INT TERM HUP
if ((status == 0)); then
  # Stopped on request: clean if the gateway was (a forced stop kills it, 137).
  ((signals == 1 && gateway_status == 0 && killed == 0)) || status=1
fi
exit "$status"
