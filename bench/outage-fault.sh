#!/usr/bin/env bash
# Storage freezes under load, full size (issue #13, fault test 3): one gateway process, 16 concurrent clients, Azurite
# frozen with SIGSTOP `freezes` times for at least 1.5 s each while the load goes on. Prints sent, served, counted,
# lost and counted twice; fails on any answer but 200 for the cached key or if counted != served after recovery.
# CI runs the same test at 3,000 requests and 3 freezes.
#   bash bench/outage-fault.sh [sent] [freezes]     (defaults 50000 10)
set -euo pipefail
cd "$(dirname "$0")/.."
sent="${1:-50000}" freezes="${2:-10}"
dotnet build tests/Gateway.Tests -c Release 2>&1 | tail -1
OUTAGE_FAULT_SENT="$sent" OUTAGE_FAULT_FREEZES="$freezes" dotnet test tests/Gateway.Tests -c Release --no-build \
  --filter "FullyQualifiedName~FaultRunTests.StorageFreezes" --logger "console;verbosity=detailed" 2>&1 \
  | grep -E "^ +[0-9]+ freezes|Passed |Failed |Assert" | grep -v '^\[xUnit'
