#!/usr/bin/env bash
# Registers the Entra app the archiver uses to write into mailboxes, with the Microsoft Graph
# application permissions Mail.ReadWrite and User.Read.All, grants them (admin consent), creates a
# client secret and stores it in the archiver's Key Vault. Safe to run again: it reuses the app.
#
# Usage: scripts/setup-entra-app.sh [--name "RingCentral archiver"] [--vault-name <kv>] [--secret-years 1]
# Needs: Azure CLI signed in (`az login`) as a Global Administrator or Privileged Role Administrator
# (to grant application permissions), with Key Vault Secrets Officer on the vault (azd grants it).
# Prints ids only, never the secret.
set -euo pipefail

app_name="RingCentral archiver"
vault="${AZURE_KEY_VAULT_NAME:-}"
secret_years=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --name) app_name="$2"; shift 2 ;;
    --vault-name) vault="$2"; shift 2 ;;
    --secret-years) secret_years="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

repo_root="$(cd "$(dirname "$0")/.." && pwd)"
if [[ -z "$vault" ]] && command -v azd >/dev/null 2>&1; then
  vault="$(cd "$repo_root" && azd env get-value AZURE_KEY_VAULT_NAME 2>/dev/null || true)"
fi
[[ -n "$vault" ]] || { echo "no Key Vault: run 'azd provision' first or pass --vault-name" >&2; exit 2; }

graph_app_id="00000003-0000-0000-c000-000000000000"
# Well-known ids of Microsoft Graph application permissions (app roles).
mail_read_write="e2a3a72e-5f79-4c64-b1b1-878b674786c9"
user_read_all="df021288-bdef-4463-88db-98f22de89214"
graph_api="https://graph.microsoft.com/v1.0"

tenant_id="$(az account show --query tenantId -o tsv)"

app_id="$(az ad app list --display-name "$app_name" --query '[0].appId' -o tsv)"
if [[ -z "$app_id" ]]; then
  app_id="$(az ad app create --display-name "$app_name" --sign-in-audience AzureADMyOrg --query appId -o tsv)"
  echo "created app registration '$app_name' ($app_id)"
else
  echo "reusing app registration '$app_name' ($app_id)"
fi

sp_id="$(az ad sp list --filter "appId eq '$app_id'" --query '[0].id' -o tsv)"
if [[ -z "$sp_id" ]]; then
  sp_id="$(az ad sp create --id "$app_id" --query id -o tsv)"
fi
graph_sp_id="$(az ad sp show --id "$graph_app_id" --query id -o tsv)"

az ad app permission add --id "$app_id" --api "$graph_app_id" \
  --api-permissions "$mail_read_write=Role" "$user_read_all=Role" --only-show-errors >/dev/null

# Admin consent for application permissions is an app role assignment on the app's service principal.
granted="$(az rest --method GET --url "$graph_api/servicePrincipals/$sp_id/appRoleAssignments" \
  --query 'value[].appRoleId' -o tsv)"
for role in "$mail_read_write" "$user_read_all"; do
  if ! grep -qx "$role" <<<"$granted"; then
    az rest --method POST --url "$graph_api/servicePrincipals/$sp_id/appRoleAssignedTo" \
      --headers "Content-Type=application/json" \
      --body "{\"principalId\":\"$sp_id\",\"resourceId\":\"$graph_sp_id\",\"appRoleId\":\"$role\"}" \
      --output none
  fi
done
echo "granted Mail.ReadWrite and User.Read.All (tenant-wide until scripts/scope-mailboxes.ps1 narrows Mail.ReadWrite)"

# The secret goes from az straight into a 0600 file and from there into Key Vault; it is never printed.
secret_file="$(mktemp)"
trap 'rm -f "$secret_file"' EXIT INT TERM
chmod 600 "$secret_file"
az ad app credential reset --id "$app_id" --append --display-name "archiver $(date -u +%Y-%m-%d)" \
  --years "$secret_years" --query password -o tsv --only-show-errors | tr -d '\r\n' > "$secret_file"
secret_name="$(node -e 'process.stdout.write(require(process.argv[1]).GRAPH_CLIENT_SECRET)' \
  "$repo_root/infra/key-vault-secrets.json")"
az keyvault secret set --vault-name "$vault" --name "$secret_name" --file "$secret_file" \
  --encoding utf-8 --content-type text/plain --output none --only-show-errors
echo "stored the client secret in $vault/$secret_name (expires in $secret_years year(s))"

if command -v azd >/dev/null 2>&1; then
  (cd "$repo_root" && azd env set GRAPH_CLIENT_ID "$app_id" && azd env set GRAPH_TENANT_ID "$tenant_id")
  echo "set GRAPH_CLIENT_ID and GRAPH_TENANT_ID in the azd environment; run 'azd provision' to apply"
fi

cat <<NEXT

App (client) id:                       $app_id
Enterprise application (SP) object id: $sp_id
Tenant id:                             $tenant_id

Next: scope mailbox access with Exchange RBAC for Applications (Exchange Online PowerShell):
  ./scripts/scope-mailboxes.ps1 -AppId $app_id -ServicePrincipalObjectId $sp_id -RecipientRestrictionFilter "<filter>"
NEXT
