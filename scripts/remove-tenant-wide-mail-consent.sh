#!/usr/bin/env bash
# Removes the tenant-wide Microsoft Graph Mail.ReadWrite grant (and the permission request) from the
# archiver's Entra app, after scripts/scope-mailboxes.ps1 has scoped it with Exchange RBAC for
# Applications. Entra grants and Exchange scopes add up: while the Entra grant exists, the app can
# write to every mailbox. User.Read.All stays (directory lookups, no mailbox content).
# Needed only after `setup-entra-app.sh --tenant-wide-mail` or a set-up made before that flag
# existed: by default the app never gets this grant. Safe to re-run: a second run changes nothing.
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

# Reads JSON on stdin and prints what the JavaScript expression (over `d`) returns, one line per item.
json() {
  node -e '
    let s = ""; process.stdin.on("data", (c) => (s += c)).on("end", () => {
      const d = s.trim() ? JSON.parse(s) : null;
      const r = new Function("d", "return (" + process.argv[1] + ")")(d);
      if (r === undefined || r === null) return;
      process.stdout.write(Array.isArray(r) ? r.join("\n") : String(r));
    });' "$1"
}

[[ "$app_id" =~ ^[0-9a-fA-F-]{36}$ ]] || { echo "--app-id must be the application (client) id, a GUID" >&2; exit 2; }
sp_id="$(az ad sp list --filter "appId eq '$app_id'" -o json | json 'd.length ? d[0].id : null')"
[[ -n "$sp_id" ]] || { echo "no service principal for app $app_id" >&2; exit 1; }

assignment_ids="$(az rest --method GET --url "$graph_api/servicePrincipals/$sp_id/appRoleAssignments" -o json |
  json "d.value.filter((a) => a.appRoleId === '$mail_read_write').map((a) => a.id)")"
for assignment in $assignment_ids; do
  az rest --method DELETE --url "$graph_api/servicePrincipals/$sp_id/appRoleAssignments/$assignment" --output none
  echo "removed the tenant-wide Mail.ReadWrite grant ($assignment)"
done
[[ -n "$assignment_ids" ]] || echo "no tenant-wide Mail.ReadWrite grant found"

# Also drop the request from the app registration, so a later "Grant admin consent" click cannot bring it back.
requested="$(az ad app show --id "$app_id" -o json |
  json "(d.requiredResourceAccess || []).filter((r) => r.resourceAppId === '$graph_app_id').flatMap((r) => r.resourceAccess.map((a) => a.id))")"
if grep -qx "$mail_read_write" <<<"$requested"; then
  az ad app permission delete --id "$app_id" --api "$graph_app_id" --api-permissions "$mail_read_write" --only-show-errors
  echo "removed the Mail.ReadWrite request from the app registration"
fi
echo "Mail.ReadWrite now comes only from the Exchange RBAC role assignment (scripts/scope-mailboxes.ps1)"
