#!/usr/bin/env bash
# Hard kills under load, full size (issue #13, fault test 2): one gateway process with its usage journal, 16
# concurrent clients, killed with SIGKILL at a random point of each of `kills` segments and started again on the same
# journal; a last start replays and flushes. Prints sent, served, in flight at a kill, counted, lost and counted twice;
# fails if a call is counted twice, or more are lost than were answered in the last 50 ms before the kills (the
# journal's loss window, README "Loss window"). CI runs the same test at 3,000 requests and 3 kills.
#   bash bench/crash-fault.sh [sent] [kills]     (defaults 100000 20)
set -euo pipefail
cd "$(dirname "$0")/.."
sent="${1:-100000}" kills="${2:-20}"
dotnet build tests/Gateway.Tests -c Release 2>&1 | tail -1
CRASH_FAULT_SENT="$sent" CRASH_FAULT_KILLS="$kills" dotnet test tests/Gateway.Tests -c Release --no-build \
  --filter "FullyQualifiedName~FaultRunTests.HardKills" --logger "console;verbosity=detailed" 2>&1 \
  | grep -E "^ +(run [0-9]+:|[0-9]+ kills)|Passed |Failed |Assert" | grep -v '^\[xUnit'
