#!/usr/bin/env bash
# Checks every shipped KQL query with Kusto.Language (.ci/check-kql.js). The parser comes from npm
# (@kusto/language-service-next) into .local/kql, outside the project's own dependencies.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="${KUSTO_LANGUAGE_VERSION:-12.4.1}"
prefix="$repo_root/.local/kql"
module="$prefix/node_modules/@kusto/language-service-next"
if [[ ! -f "$module/Kusto.Language.Bridge.js" ]] || ! grep -q "\"$version\"" "$module/package.json"; then
  echo "kql: installing @kusto/language-service-next $version into $prefix" >&2
  mkdir -p "$prefix"
  [[ -f "$prefix/package.json" ]] || echo '{"private":true}' > "$prefix/package.json"
  npm install --prefix "$prefix" --no-audit --no-fund --no-save "@kusto/language-service-next@$version" >&2
fi
node "$repo_root/.ci/check-kql.js" "$module"
