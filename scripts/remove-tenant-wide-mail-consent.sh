#!/usr/bin/env bash
# Removes the tenant-wide Microsoft Graph Mail.ReadWrite grant (and the permission request) from the
# archiver's Entra app, after scripts/scope-mailboxes.ps1 has scoped it with Exchange RBAC for
# Applications. Entra grants and Exchange scopes add up: while the Entra grant exists, the app can
# write to every mailbox. User.Read.All stays (directory lookups, no mailbox content).
#
# Usage: scripts/remove-tenant-wide-mail-consent.sh --app-id <application (client) id>
set -euo pipefail

app_id=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --app-id) app_id="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
[[ -n "$app_id" ]] || { echo "usage: $0 --app-id <application id>" >&2; exit 2; }

graph_app_id="00000003-0000-0000-c000-000000000000"
mail_read_write="e2a3a72e-5f79-4c64-b1b1-878b674786c9"
graph_api="https://graph.microsoft.com/v1.0"

sp_id="$(az ad sp list --filter "appId eq '$app_id'" --query '[0].id' -o tsv)"
[[ -n "$sp_id" ]] || { echo "no service principal for app $app_id" >&2; exit 1; }

assignment_ids="$(az rest --method GET --url "$graph_api/servicePrincipals/$sp_id/appRoleAssignments" \
  --query "value[?appRoleId=='$mail_read_write'].id" -o tsv)"
for assignment in $assignment_ids; do
  az rest --method DELETE --url "$graph_api/servicePrincipals/$sp_id/appRoleAssignments/$assignment" --output none
  echo "removed the tenant-wide Mail.ReadWrite grant ($assignment)"
done
[[ -n "$assignment_ids" ]] || echo "no tenant-wide Mail.ReadWrite grant found"

# Also drop the request from the app registration, so a later "Grant admin consent" click cannot bring it back.
az ad app permission delete --id "$app_id" --api "$graph_app_id" --api-permissions "$mail_read_write" \
  --only-show-errors 2>/dev/null || true
echo "Mail.ReadWrite now comes only from the Exchange RBAC role assignment"
