#!/usr/bin/env bash
# Compiles and lints infra/main.bicep with the Bicep CLI from NuGet (the public module
# registry and the Bicep install script are unreachable here; NuGet is not).
# Any linter/compiler warning fails the run unless bicepconfig.json suppresses it with a reason.
# Writes the compiled ARM template to .local/bicep/main.json and checks it with .ci/check-template.js.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bicep_version="${BICEP_VERSION:-0.49.2}"
cache_dir="$repo_root/.local/bicep"
package_dir="$cache_dir/packages"
restore_project_dir="$cache_dir/restore"
package_id="azure.bicep.commandline.linux-x64"

bicep_bin="$package_dir/$package_id/$bicep_version/tools/bicep"

if [[ ! -x "$bicep_bin" ]]; then
  command -v dotnet >/dev/null || { echo "bicep: dotnet is required to restore the Bicep CLI" >&2; exit 1; }
  echo "bicep: restoring $package_id $bicep_version with dotnet" >&2
  mkdir -p "$restore_project_dir" "$package_dir"
  # A throwaway project: PackageDownload fetches a package without referencing or building it.
  target_framework="net$(dotnet --version | cut -d. -f1,2)"
  cat > "$restore_project_dir/restore.csproj" <<CSPROJ
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>$target_framework</TargetFramework>
  </PropertyGroup>
  <ItemGroup>
    <PackageDownload Include="Azure.Bicep.CommandLine.linux-x64" Version="[$bicep_version]" />
  </ItemGroup>
</Project>
CSPROJ
  DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1 \
    dotnet restore "$restore_project_dir/restore.csproj" --packages "$package_dir" --nologo -v quiet >&2
  if [[ ! -f "$bicep_bin" ]]; then
    echo "bicep: the package has no tools/bicep (looked for $bicep_bin)" >&2
    exit 1
  fi
  chmod +x "$bicep_bin"
fi

out_dir="$cache_dir/out"
rm -rf "$out_dir"
mkdir -p "$out_dir"
log="$cache_dir/bicep.log"
: > "$log"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 BICEP_TRACING_ENABLED=false
cd "$repo_root"
status=0
"$bicep_bin" build infra/main.bicep --outdir "$out_dir" >>"$log" 2>&1 || status=$?
"$bicep_bin" lint infra/main.bicep >>"$log" 2>&1 || status=$?
cat "$log"

if [[ $status -ne 0 ]]; then
  echo "bicep: FAILED (exit $status)" >&2
  exit 1
fi
# Bicep exits 0 on warnings; this project treats an unsuppressed warning as a failure.
if grep -Eiq ': (Warning|Error) [A-Za-z0-9-]+:|warning|error' "$log"; then
  echo "bicep: FAILED (warnings or errors above; fix them or suppress in bicepconfig.json with a reason)" >&2
  exit 1
fi
cp "$out_dir/main.json" "$cache_dir/main.json"
# What the linter cannot see: basic-auth publishing off, azure.yaml's azd version, alert queries.
node "$repo_root/.ci/check-template.js" "$cache_dir/main.json"
echo "bicep: OK, compiled ARM template: $cache_dir/main.json"
