#!/usr/bin/env sh
# azd postprovision hook: copies the secrets set in the azd environment into Key Vault, then
# restarts the Function App so its Key Vault references pick them up. Never prints a secret value.
#
#   RINGCENTRAL_CLIENT_SECRET  RingCentral app client secret
#   RINGCENTRAL_JWT            JWT credential of the RingCentral admin user
#   GRAPH_CLIENT_SECRET        Entra (Graph) app client secret (usually stored by
#                              scripts/setup-entra-app.sh instead, and then left unset here)
#
# Only these names are read: never AZURE_CLIENT_SECRET, which in CI usually holds the deployer's
# own secret. Unset values are skipped, so the hook is safe to run before the secrets exist; a
# value equal to the vault's current version is not written again, and the app is restarted only
# when something was written, so a re-run changes nothing.
# Needs the Azure CLI signed in (`az login`) as the user azd signed in with (Key Vault Secrets Officer).
set -eu

repo_root="$(cd "$(dirname "$0")/.." && pwd)"
vault="${AZURE_KEY_VAULT_NAME:?AZURE_KEY_VAULT_NAME is not set: run azd provision first}"

secret_name_for() {
  node -e 'process.stdout.write(require(process.argv[1])[process.argv[2]])' \
    "$repo_root/infra/key-vault-secrets.json" "$1"
}

value_file="$(mktemp)"
trap 'rm -f "$value_file"' EXIT INT TERM
chmod 600 "$value_file"

# Prints "same" when the vault's current version of secret $1 equals the value file, else "differs".
# The stored value only passes through this pipe into node; it is never printed or kept.
current_matches() {
  exists="$(az keyvault secret list --vault-name "$vault" -o json |
    node -e 'let s="";process.stdin.on("data",(c)=>s+=c).on("end",()=>process.stdout.write(String(JSON.parse(s).some((x)=>x.name===process.argv[1]))))' "$1")"
  [ "$exists" = true ] || { echo differs; return; }
  az keyvault secret show --vault-name "$vault" --name "$1" -o json --only-show-errors |
    node -e 'const fs=require("fs");let s="";process.stdin.on("data",(c)=>s+=c).on("end",()=>process.stdout.write(JSON.parse(s).value===fs.readFileSync(process.argv[1],"utf8")?"same":"differs"))' "$value_file"
}

# The value goes through a 0600 file, not the command line, so it never shows in `ps` or shell traces.
# Returns 0 when it wrote a new version, 1 when there was nothing to write.
store() {
  setting="$1"
  value="$2"
  [ -n "$value" ] || { echo "store-secrets: $setting not set in the azd environment; skipped"; return 1; }
  name="$(secret_name_for "$setting")"
  printf '%s' "$value" > "$value_file"
  if [ "$(current_matches "$name")" = same ]; then
    : > "$value_file"
    echo "store-secrets: $setting unchanged in $vault/$name"
    return 1
  fi
  attempt=1
  # A role assignment made by this provision can take a few minutes to reach Key Vault.
  until az keyvault secret set --vault-name "$vault" --name "$name" --file "$value_file" \
      --encoding utf-8 --content-type text/plain --output none --only-show-errors; do
    [ "$attempt" -lt 6 ] || { echo "store-secrets: could not write $name to $vault" >&2; exit 1; }
    echo "store-secrets: Key Vault refused $name (role assignment still propagating?); retrying in 30 s"
    attempt=$((attempt + 1))
    sleep 30
  done
  : > "$value_file"
  echo "store-secrets: $setting -> $vault/$name"
}

stored=0
store RINGCENTRAL_CLIENT_SECRET "${RINGCENTRAL_CLIENT_SECRET:-}" && stored=1 || true
store RINGCENTRAL_JWT "${RINGCENTRAL_JWT:-}" && stored=1 || true
store GRAPH_CLIENT_SECRET "${GRAPH_CLIENT_SECRET:-}" && stored=1 || true

if [ "$stored" -eq 1 ] && [ -n "${AZURE_FUNCTION_APP_NAME:-}" ] && [ -n "${AZURE_RESOURCE_GROUP:-}" ]; then
  az functionapp restart --name "$AZURE_FUNCTION_APP_NAME" --resource-group "$AZURE_RESOURCE_GROUP" \
    --output none --only-show-errors
  echo "store-secrets: restarted $AZURE_FUNCTION_APP_NAME so it reads the new secret versions"
fi
