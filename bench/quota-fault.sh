#!/usr/bin/env bash
# Exact quotas across instances, full size (issue #13, fault test 1): three gateway processes on one table prefix
# with quota leases on, one blocking key, concurrent load spread over the three, several rounds. Each round prints
# sent, served, refused and the lease rows read and written; it fails if served != quota or any call is neither
# served nor refused as quota-exhausted. The CI runs the same test at quota 300 / 600 calls.
#   bash bench/quota-fault.sh [quota] [sent] [rounds]     (defaults 5000 20000 3)
set -euo pipefail
cd "$(dirname "$0")/.."
quota="${1:-5000}" sent="${2:-20000}" rounds="${3:-3}"
dotnet build tests/Gateway.Tests -c Release 2>&1 | tail -1
for round in $(seq 1 "$rounds"); do
  echo "round $round: quota $quota, sent $sent"
  QUOTA_FAULT_QUOTA="$quota" QUOTA_FAULT_SENT="$sent" dotnet test tests/Gateway.Tests -c Release --no-build \
    --filter "FullyQualifiedName~QuotaFaultTests" --logger "console;verbosity=detailed" 2>&1 \
    | grep -E "^ +(sent|lease rows|[0-9]{3} urn)|Passed|Failed" | grep -v '^\[xUnit'
done
