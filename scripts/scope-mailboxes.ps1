<#
.SYNOPSIS
Gives the archiver's Entra app write access to the archived mailboxes only, with Exchange Online
RBAC for Applications.

.DESCRIPTION
Creates (when missing) the Exchange service principal for the app, a management scope selecting
the archived mailboxes, and the "Application Mail.ReadWrite" role assignment within that scope.
This is the app's only mailbox access when scripts/setup-entra-app.sh ran without
--tenant-wide-mail: run it BEFORE `azd provision` applies GRAPH_CLIENT_ID, so nothing is delivered
before the scope exists.

Safe to run again: the service principal is looked up by app id, the scope by name, and the role
assignment by its assignee, which Exchange records as the service principal's object id
(RoleAssignee). Names are not compared: RoleAssigneeName is a display name, which another app can
share and which differs when the service principal was created elsewhere. A second run with the
same arguments changes nothing.

User.Read.All stays an Entra grant: it reads the directory, not mailbox content. If the app also
holds the tenant-wide Entra grant for Mail.ReadWrite, the two add up and the scope restricts
nothing: remove it with scripts/remove-tenant-wide-mail-consent.sh.

Requires the ExchangeOnlineManagement module and an Exchange Administrator (or Organization
Management) account.

.PARAMETER AppId
Application (client) id of the Entra app (printed by scripts/setup-entra-app.sh).

.PARAMETER ServicePrincipalObjectId
Object id of the app's ENTERPRISE APPLICATION (service principal), not of the app registration.

.PARAMETER RecipientRestrictionFilter
OPATH filter selecting every mailbox that receives archive mail, the FALLBACK_MAILBOX included. Examples:
  "MemberOfGroup -eq 'CN=RingCentral Archive,OU=...,DC=...'"
  "CustomAttribute1 -eq 'RingCentralArchive'"
  "RecipientTypeDetails -eq 'UserMailbox'"

.PARAMETER TestMailbox
A mailbox that must be in scope; checked with Test-ServicePrincipalAuthorization (the script fails
when it is not).

.PARAMETER TestOutsideMailbox
A mailbox that must NOT be in scope: proves the scope excludes it.

.EXAMPLE
./scripts/scope-mailboxes.ps1 -AppId 1111... -ServicePrincipalObjectId 2222... -RecipientRestrictionFilter "CustomAttribute1 -eq 'RingCentralArchive'" -TestMailbox alice@contoso.com -TestOutsideMailbox ceo@contoso.com
#>
[CmdletBinding(SupportsShouldProcess)]
param(
  [Parameter(Mandatory)][guid] $AppId,
  [Parameter(Mandatory)][guid] $ServicePrincipalObjectId,
  [Parameter(Mandatory)][string] $RecipientRestrictionFilter,
  [string] $ScopeName = 'RingCentral archiver mailboxes',
  [string] $DisplayName = 'RingCentral archiver',
  [string] $TestMailbox,
  [string] $TestOutsideMailbox
)

$ErrorActionPreference = 'Stop'
$role = 'Application Mail.ReadWrite'
$appIdText = $AppId.ToString()
$objectIdText = $ServicePrincipalObjectId.ToString()

if (-not (Get-Command Get-ServicePrincipal -ErrorAction SilentlyContinue)) {
  Import-Module ExchangeOnlineManagement
  Connect-ExchangeOnline -ShowBanner:$false
}

# 1. The Exchange service principal: a pointer to the Entra one, looked up by app id.
$servicePrincipal = Get-ServicePrincipal -Identity $appIdText -ErrorAction SilentlyContinue
if ($servicePrincipal) {
  if ([string]$servicePrincipal.ObjectId -ne $objectIdText) {
    throw "Exchange already has a service principal for app $appIdText with object id $($servicePrincipal.ObjectId), not $objectIdText. Check -ServicePrincipalObjectId (the enterprise application's object id)."
  }
  Write-Host "Exchange service principal for $appIdText exists"
} elseif ($PSCmdlet.ShouldProcess($appIdText, 'New-ServicePrincipal')) {
  New-ServicePrincipal -AppId $appIdText -ObjectId $objectIdText -DisplayName $DisplayName | Out-Null
  Write-Host "Created the Exchange service principal for $appIdText"
}

# 2. The management scope. Exchange may re-format a filter (case, spacing, parentheses), so the
#    comparison ignores those; a different filter is applied.
function Get-NormalizedFilter([string] $filter) { ($filter -replace '[\s()]', '').ToLowerInvariant() }
$scope = Get-ManagementScope -Identity $ScopeName -ErrorAction SilentlyContinue
if (-not $scope) {
  if ($PSCmdlet.ShouldProcess($ScopeName, 'New-ManagementScope')) {
    New-ManagementScope -Name $ScopeName -RecipientRestrictionFilter $RecipientRestrictionFilter | Out-Null
    Write-Host "Created management scope '$ScopeName'"
  }
} elseif ((Get-NormalizedFilter $scope.RecipientFilter) -ne (Get-NormalizedFilter $RecipientRestrictionFilter)) {
  if ($PSCmdlet.ShouldProcess($ScopeName, 'Set-ManagementScope')) {
    Set-ManagementScope -Identity $ScopeName -RecipientRestrictionFilter $RecipientRestrictionFilter
    Write-Host "Changed the filter of management scope '$ScopeName'"
  }
} else {
  Write-Host "Management scope '$ScopeName' exists with this filter"
}

# 3. The role assignment, matched on its assignee: the service principal's object id.
$ours = @(Get-ManagementRoleAssignment -Role $role -GetEffectiveUsers:$false -ErrorAction SilentlyContinue |
  Where-Object { $_.RoleAssigneeType -eq 'ServicePrincipal' -and [string]$_.RoleAssignee -eq $objectIdText })
if ($ours.Count -eq 0) {
  if ($PSCmdlet.ShouldProcess($appIdText, "New-ManagementRoleAssignment $role")) {
    New-ManagementRoleAssignment -App $objectIdText -Role $role -CustomResourceScope $ScopeName | Out-Null
    Write-Host "Assigned '$role' within '$ScopeName'"
  }
} else {
  foreach ($assignment in $ours) {
    if ([string]$assignment.CustomResourceScope -eq $ScopeName) {
      Write-Host "Role '$role' is already assigned to the app within '$ScopeName' ($($assignment.Name))"
    } elseif ($PSCmdlet.ShouldProcess($assignment.Name, "Set-ManagementRoleAssignment -CustomResourceScope $ScopeName")) {
      # An assignment with another scope (or none: the whole organisation) would widen access.
      Set-ManagementRoleAssignment -Identity $assignment.Identity -CustomResourceScope $ScopeName
      Write-Host "Moved role assignment $($assignment.Name) from '$($assignment.CustomResourceScope)' to '$ScopeName'"
    }
  }
}

# 4. Checks. Test-ServicePrincipalAuthorization bypasses Exchange's permission cache, which takes
#    30 minutes to 2 hours to pick up changes for the app itself.
function Test-InScope([string] $mailbox) {
  $results = @(Test-ServicePrincipalAuthorization -Identity $objectIdText -Resource $mailbox | Where-Object { $_.RoleName -eq $role })
  return ($results | Where-Object { $_.InScope -eq $true }).Count -gt 0
}
$failed = $false
if ($TestMailbox) {
  if (Test-InScope $TestMailbox) { Write-Host "OK: $TestMailbox is in scope" }
  else { Write-Error "$TestMailbox is NOT in scope: check -RecipientRestrictionFilter" -ErrorAction Continue; $failed = $true }
}
if ($TestOutsideMailbox) {
  if (Test-InScope $TestOutsideMailbox) { Write-Error "$TestOutsideMailbox IS in scope: the filter selects more than the archived mailboxes" -ErrorAction Continue; $failed = $true }
  else { Write-Host "OK: $TestOutsideMailbox is out of scope" }
}
if ($failed) { exit 1 }

Write-Host @"

The app may now write to the mailboxes the scope selects, and no others (unless it also holds the
tenant-wide Entra grant for Mail.ReadWrite: scripts/remove-tenant-wide-mail-consent.sh --app-id $AppId).
Exchange applies the change within 30 minutes to 2 hours; deliveries refused with 403 meanwhile are retried.
Next: azd provision (applies GRAPH_CLIENT_ID, and the archiver starts delivering).
"@
