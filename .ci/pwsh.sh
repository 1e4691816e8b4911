#!/usr/bin/env bash
# Prints the path of a PowerShell 7 (pwsh) to run scripts/scope-mailboxes.ps1 under test.
# Uses pwsh from PATH when there is one; otherwise restores the PowerShell .NET global tool from
# NuGet into .local/pwsh (Debian does not package PowerShell; NuGet is reachable here).
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="${PWSH_VERSION:-7.6.9}"
tool_dir="$repo_root/.local/pwsh"

if command -v pwsh >/dev/null 2>&1; then command -v pwsh; exit 0; fi
if [[ ! -x "$tool_dir/pwsh" ]]; then
  command -v dotnet >/dev/null || { echo "pwsh: neither pwsh nor dotnet is installed" >&2; exit 1; }
  echo "pwsh: installing the PowerShell $version .NET tool into $tool_dir" >&2
  DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1 \
    dotnet tool install PowerShell --version "$version" --tool-path "$tool_dir" >&2
fi
echo "$tool_dir/pwsh"
