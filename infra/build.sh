#!/usr/bin/env bash
# Compiles and lints the Bicep templates; fails on any error or warning.
# The Bicep CLI comes from NuGet (package Azure.Bicep.CommandLine.<rid>), restored through infra/tools/BicepCli.proj,
# so this needs nothing but the .NET SDK and NuGet. Nothing is deployed and no Azure login is needed.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

bicep_version="${BICEP_VERSION:-0.49.2}"
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) rid=linux-x64 ;;
  Linux-aarch64 | Linux-arm64) rid=linux-arm64 ;;
  Darwin-x86_64) rid=osx-x64 ;;
  Darwin-arm64) rid=osx-arm64 ;;
  *) echo "infra/build.sh: no Bicep CLI package for $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac

echo "== Bicep CLI $bicep_version ($rid) from NuGet"
dotnet restore infra/tools/BicepCli.proj -p:BicepVersion="$bicep_version" -p:BicepRid="$rid" --verbosity quiet

packages="${NUGET_PACKAGES:-$(dotnet nuget locals global-packages --list | sed -n 's/^global-packages: *//p')}"
bicep="${packages%/}/azure.bicep.commandline.$rid/$bicep_version/tools/bicep"
if [ ! -f "$bicep" ]; then
  echo "infra/build.sh: restore finished but $bicep is missing" >&2
  exit 1
fi
# NuGet extracts the binary without the execute bit for everyone.
[ -x "$bicep" ] || chmod +x "$bicep"
"$bicep" --version

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
for command in "build infra/main.bicep --stdout" "build-params infra/main.bicepparam --stdout" "lint infra/main.bicep"; do
  echo "== bicep $command"
  # Diagnostics go to stderr; compiled JSON (--stdout) is thrown away, so nothing is written into the tree.
  # shellcheck disable=SC2086 # word splitting of $command is intended
  "$bicep" $command 2>&1 >/dev/null | tee -a "$log" || status=1
done

# Bicep exits 0 on warnings, so count them from the output (one diagnostic a line: "file(l,c) : Warning code: ...").
errors=$(grep -cE ' : Error ' "$log" || true)
warnings=$(grep -cE ' : Warning ' "$log" || true)
echo "Bicep: $errors error(s), $warnings warning(s)"
if [ "$status" -ne 0 ] || [ "$errors" -ne 0 ] || [ "$warnings" -ne 0 ]; then
  echo "infra/build.sh: FAILED (every error and warning counts)" >&2
  exit 1
fi
echo "infra/build.sh: OK"
