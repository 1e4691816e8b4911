#!/usr/bin/env sh
# Stages what the Functions host runs into .local/package (azure.yaml `dist`), which azd zips:
# compiled functions and shared code, host.json, package.json and production node_modules only.
set -eu

repo_root="$(cd "$(dirname "$0")/.." && pwd)"
stage="$repo_root/.local/package"
cd "$repo_root"

npm run build --silent

if ! ls dist/functions/*.js >/dev/null 2>&1; then
  echo "stage-package: no dist/functions/*.js after the build (package.json main points there)" >&2
  exit 1
fi

rm -rf "$stage"
mkdir -p "$stage/dist"
cp -R dist/functions dist/shared "$stage/dist/"
cp host.json package.json package-lock.json "$stage/"

(cd "$stage" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)

# The host loads every file matched by package.json main; a missing module would only show in Azure.
(cd "$stage" && node -e '
const fs = require("node:fs");
const path = require("node:path");
let missing = 0;
for (const file of fs.readdirSync("dist/functions").filter((f) => f.endsWith(".js"))) {
  try {
    require(path.resolve("dist/functions", file));
  } catch (error) {
    if (error && error.code === "MODULE_NOT_FOUND") {
      missing += 1;
      console.error(`stage-package: dist/functions/${file}: ${error.message.split("\n")[0]}`);
    }
  }
}
process.exit(missing ? 1 : 0);
')

echo "stage-package: staged $stage"
