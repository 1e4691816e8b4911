#!/usr/bin/env bash
# Registers the Entra app the archiver uses for Microsoft Graph, least privilege by default.
#
# Default (set up): finds the app by its exact display name or creates it, requests and grants
# (admin consent) the one Graph application permission the archiver needs beyond mail,
# User.Read.All, creates a client secret straight into the archiver's Key Vault (only when the
# vault has none yet) and sets GRAPH_CLIENT_ID / GRAPH_TENANT_ID in the azd environment.
# Mailbox access is NOT granted here: scripts/scope-mailboxes.ps1 gives it with Exchange RBAC for
# Applications, limited to the archived mailboxes. Until that runs, the app can write to no mailbox.
#
#   --tenant-wide-mail   also request and grant Mail.ReadWrite in Entra: write access to EVERY
#                        mailbox in the tenant (docs/deploy.md explains when that is acceptable).
#                        Entra grants and Exchange scopes add up, so this makes any scope moot.
#   --renew-secret       only adds a new client secret to the existing app and stores it in Key
#                        Vault as a new version of the same secret; changes no permission, creates
#                        nothing else. Then restarts the Function App so it reads the new version.
#
# Safe to re-run: the app is found by exact name (az's --display-name matches prefixes) and the
# script stops unless exactly one app has that name; every step checks before it writes, so a
# second run changes nothing.
#
# At the end it prints the RingCentral app permissions that CAPTURE_SOURCES needs (from
# infra/ringcentral-permissions.json). Those are set on the RingCentral app in the RingCentral
# Developer Console, not in Entra; this script cannot set them.
#
# Usage: scripts/setup-entra-app.sh [--name "RingCentral archiver"] [--vault-name <kv>]
#          [--secret-years 1] [--tenant-wide-mail | --renew-secret]
# Needs: Azure CLI signed in (`az login`) as a Global Administrator or Privileged Role
# Administrator (to grant application permissions), with Key Vault Secrets Officer on the vault
# (azd grants it to whoever ran `azd up`); Node.js (reads az's JSON output). Prints ids only,
# never the secret.
set -euo pipefail

app_name="RingCentral archiver"
vault="${AZURE_KEY_VAULT_NAME:-}"
secret_years=1
mode=setup
tenant_wide_mail=false
while [[ $# -gt 0 ]]; do
  case "$1" in
    --name) app_name="$2"; shift 2 ;;
    --vault-name) vault="$2"; shift 2 ;;
    --secret-years) secret_years="$2"; shift 2 ;;
    --tenant-wide-mail) tenant_wide_mail=true; shift ;;
    --renew-secret) mode=renew; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
if [[ "$mode" == renew && "$tenant_wide_mail" == true ]]; then
  echo "--renew-secret changes no permission; it cannot be combined with --tenant-wide-mail" >&2
  exit 2
fi
[[ "$secret_years" =~ ^[1-9][0-9]?$ ]] || { echo "--secret-years must be a whole number of years" >&2; exit 2; }

repo_root="$(cd "$(dirname "$0")/.." && pwd)"
has_azd=false
command -v azd >/dev/null 2>&1 && has_azd=true
azd_value() { $has_azd && (cd "$repo_root" && azd env get-value "$1" 2>/dev/null) || true; }

[[ -n "$vault" ]] || vault="$(azd_value AZURE_KEY_VAULT_NAME)"
[[ -n "$vault" ]] || { echo "no Key Vault: run 'azd provision' first or pass --vault-name" >&2; exit 2; }

# Reads JSON on stdin and prints what the JavaScript expression (over `d`) returns: nothing for
# null/undefined, one line per item for an array. Used instead of az --query so that names are
# compared exactly and never pasted into a query string.
json() {
  node -e '
    let s = ""; process.stdin.on("data", (c) => (s += c)).on("end", () => {
      const d = s.trim() ? JSON.parse(s) : null;
      const r = new Function("d", "env", "return (" + process.argv[1] + ")")(d, process.env);
      if (r === undefined || r === null) return;
      process.stdout.write(Array.isArray(r) ? r.join("\n") : String(r));
    });' "$1"
}

graph_app_id="00000003-0000-0000-c000-000000000000"
# Well-known ids of Microsoft Graph application permissions (app roles).
mail_read_write="e2a3a72e-5f79-4c64-b1b1-878b674786c9"
user_read_all="df021288-bdef-4463-88db-98f22de89214"
graph_api="https://graph.microsoft.com/v1.0"
secret_name="$(node -e 'process.stdout.write(require(process.argv[1]).GRAPH_CLIENT_SECRET)' "$repo_root/infra/key-vault-secrets.json")"

roles=("$user_read_all")
$tenant_wide_mail && roles+=("$mail_read_write")
role_name() { case "$1" in "$user_read_all") echo User.Read.All ;; "$mail_read_write") echo Mail.ReadWrite ;; *) echo "$1" ;; esac; }

tenant_id="$(az account show -o json | json 'd.tenantId')"

# --display-name is a prefix match ("RingCentral archiver" also finds "RingCentral archiver (test)").
export APP_NAME="$app_name"
app_ids="$(az ad app list --display-name "$app_name" -o json | json 'd.filter((a) => a.displayName === env.APP_NAME).map((a) => a.appId)')"
app_count=$(grep -c . <<<"$app_ids" || true)
if [[ "$app_count" -gt 1 ]]; then
  echo "$app_count app registrations are named exactly '$app_name' ($(tr '\n' ' ' <<<"$app_ids")); rename or delete the extra ones, or pass --name" >&2
  exit 1
fi
if [[ "$app_count" -eq 0 ]]; then
  if [[ "$mode" == renew ]]; then
    echo "no app registration named exactly '$app_name': nothing to renew (run without --renew-secret to set it up)" >&2
    exit 1
  fi
  app_id="$(az ad app create --display-name "$app_name" --sign-in-audience AzureADMyOrg -o json | json 'd.appId')"
  echo "created app registration '$app_name' ($app_id)"
else
  app_id="$app_ids"
  echo "found app registration '$app_name' ($app_id)"
fi

sp_id="$(az ad sp list --filter "appId eq '$app_id'" -o json | json 'd.length ? d[0].id : null')"
if [[ -z "$sp_id" ]]; then
  [[ "$mode" == renew ]] && { echo "app $app_id has no service principal: run without --renew-secret first" >&2; exit 1; }
  sp_id="$(az ad sp create --id "$app_id" -o json | json 'd.id')"
  echo "created its service principal ($sp_id)"
fi

# The secret goes from az straight into this 0600 file and from there into Key Vault; never printed.
secret_file="$(mktemp)"
trap 'rm -f "$secret_file"' EXIT INT TERM
chmod 600 "$secret_file"

store_new_secret() {
  az ad app credential reset --id "$app_id" --append --display-name "archiver $(date -u +%Y-%m-%d)" \
    --years "$secret_years" --only-show-errors -o json | json 'd.password' > "$secret_file"
  [[ -s "$secret_file" ]] || { echo "az returned no client secret" >&2; exit 1; }
  az keyvault secret set --vault-name "$vault" --name "$secret_name" --file "$secret_file" \
    --encoding utf-8 --content-type text/plain --output none --only-show-errors
  : > "$secret_file"
  echo "stored a new client secret in $vault/$secret_name (expires in $secret_years year(s))"
}

if [[ "$mode" == renew ]]; then
  store_new_secret
  app_name_fn="${AZURE_FUNCTION_APP_NAME:-$(azd_value AZURE_FUNCTION_APP_NAME)}"
  rg="${AZURE_RESOURCE_GROUP:-$(azd_value AZURE_RESOURCE_GROUP)}"
  if [[ -n "$app_name_fn" && -n "$rg" ]]; then
    # Key Vault references without a version are re-read on restart (otherwise within 24 hours).
    az functionapp restart --name "$app_name_fn" --resource-group "$rg" --output none --only-show-errors
    echo "restarted $app_name_fn: it reads the new secret version now"
  else
    echo "restart the Function App (az functionapp restart) so it reads the new secret now; otherwise it picks it up within 24 hours"
  fi
  old_keys="$(az ad app show --id "$app_id" -o json | json '(d.passwordCredentials || []).sort((a, b) => a.endDateTime.localeCompare(b.endDateTime)).slice(0, -1).map((c) => c.keyId + " (expires " + c.endDateTime + ")")')"
  if [[ -n "$old_keys" ]]; then
    echo "Older client secrets still valid; once /api/status is healthy, delete each with"
    echo "  az ad app credential delete --id $app_id --key-id <key id>"
    sed 's/^/    /' <<<"$old_keys"
  fi
  exit 0
fi

# Permission requests on the app registration: add only what is missing (a PATCH even when unchanged otherwise).
requested="$(az ad app show --id "$app_id" -o json | json "(d.requiredResourceAccess || []).filter((r) => r.resourceAppId === '$graph_app_id').flatMap((r) => r.resourceAccess.map((a) => a.id))")"
missing=()
for role in "${roles[@]}"; do grep -qx "$role" <<<"$requested" || missing+=("$role=Role"); done
if [[ ${#missing[@]} -gt 0 ]]; then
  az ad app permission add --id "$app_id" --api "$graph_app_id" --api-permissions "${missing[@]}" --only-show-errors >/dev/null
fi

# Admin consent for an application permission is an app role assignment on the app's service principal.
granted="$(az rest --method GET --url "$graph_api/servicePrincipals/$sp_id/appRoleAssignments" -o json | json 'd.value.map((a) => a.appRoleId)')"
graph_sp_id=""
for role in "${roles[@]}"; do
  if grep -qx "$role" <<<"$granted"; then
    echo "$(role_name "$role") already granted"
    continue
  fi
  [[ -n "$graph_sp_id" ]] || graph_sp_id="$(az ad sp show --id "$graph_app_id" -o json | json 'd.id')"
  az rest --method POST --url "$graph_api/servicePrincipals/$sp_id/appRoleAssignedTo" \
    --headers "Content-Type=application/json" \
    --body "{\"principalId\":\"$sp_id\",\"resourceId\":\"$graph_sp_id\",\"appRoleId\":\"$role\"}" \
    --output none
  echo "granted $(role_name "$role") (admin consent)"
done
if ! $tenant_wide_mail && grep -qx "$mail_read_write" <<<"$granted"; then
  echo "WARNING: the app holds a tenant-wide Mail.ReadWrite grant (from an earlier set-up): it can write to every" >&2
  echo "  mailbox. After scripts/scope-mailboxes.ps1, remove it: scripts/remove-tenant-wide-mail-consent.sh --app-id $app_id" >&2
fi

secret_count="$(az keyvault secret list --vault-name "$vault" -o json | json "d.filter((s) => s.name === '$secret_name').length")"
if [[ "$secret_count" -eq 0 ]]; then
  store_new_secret
else
  echo "$vault/$secret_name already holds a client secret; kept (renew with --renew-secret)"
fi

if $has_azd; then
  for pair in "GRAPH_CLIENT_ID=$app_id" "GRAPH_TENANT_ID=$tenant_id"; do
    name="${pair%%=*}"
    value="${pair#*=}"
    [[ "$(azd_value "$name")" == "$value" ]] || (cd "$repo_root" && azd env set "$name" "$value")
  done
  echo "GRAPH_CLIENT_ID and GRAPH_TENANT_ID are set in the azd environment; 'azd provision' applies them"
fi

if $tenant_wide_mail; then
  next="Mail.ReadWrite is granted tenant-wide: the app can write to every mailbox."
else
  next="The app has no mailbox access yet. Give it, limited to the archived mailboxes (Exchange Administrator):"
fi
cat <<NEXT

App (client) id:                       $app_id
Enterprise application (SP) object id: $sp_id
Tenant id:                             $tenant_id

$next
  pwsh ./scripts/scope-mailboxes.ps1 -AppId $app_id -ServicePrincipalObjectId $sp_id -RecipientRestrictionFilter "<filter>"
Then apply the ids: azd provision
NEXT

# RingCentral app permissions are not Entra permissions: print what to enable in the RingCentral
# Developer Console for the sources this environment captures (CAPTURE_SOURCES, as the app reads it).
capture_sources="${CAPTURE_SOURCES:-$(azd_value CAPTURE_SOURCES)}"
node -e '
  const p = require(process.argv[1]);
  const all = Object.keys(p.bySource);
  const asked = (process.argv[2] || all.join(",")).split(",").map((s) => s.trim().toLowerCase()).filter(Boolean);
  const unknown = asked.filter((s) => !all.includes(s));
  if (unknown.length) process.stderr.write("WARNING: CAPTURE_SOURCES names unknown source(s): " + unknown.join(", ") + " (known: " + all.join(", ") + ")\n");
  const sources = all.filter((s) => asked.includes(s));
  const names = [...new Set([...p.always, ...sources.flatMap((s) => p.bySource[s])])];
  const width = Math.max(...names.map((n) => n.length));
  console.log("\nRingCentral app permissions for CAPTURE_SOURCES=" + sources.join(",") + ". Set them in the RingCentral");
  console.log("Developer Console, in the settings of the RingCentral app (Entra does not hold them):");
  for (const n of names) console.log("  " + n.padEnd(width) + "  " + (p.purpose[n] || ""));
  console.log("A source whose permission is missing shows as \"permission missing: <permission>\" in /api/status.");
' "$repo_root/infra/ringcentral-permissions.json" "$capture_sources"
