<#
.SYNOPSIS
Limits the archiver's Entra app to the archived mailboxes with Exchange Online RBAC for Applications.

.DESCRIPTION
Creates (or updates) the Exchange service principal for the app, a management scope selecting the
archived mailboxes, and the "Application Mail.ReadWrite" role assignment within that scope. Safe to
run again.

User.Read.All stays an Entra consent: it reads the directory, not mailbox content, and Exchange has
no application role for it. Mail.ReadWrite must then be removed from the tenant-wide Entra consent
(scripts/remove-tenant-wide-mail-consent.sh), or the scope restricts nothing: the two grants add up.

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
Optional mailbox to check with Test-ServicePrincipalAuthorization (InScope should be True).

.EXAMPLE
./scripts/scope-mailboxes.ps1 -AppId 1111... -ServicePrincipalObjectId 2222... -RecipientRestrictionFilter "CustomAttribute1 -eq 'RingCentralArchive'" -TestMailbox alice@contoso.com
#>
[CmdletBinding(SupportsShouldProcess)]
param(
  [Parameter(Mandatory)][guid] $AppId,
  [Parameter(Mandatory)][guid] $ServicePrincipalObjectId,
  [Parameter(Mandatory)][string] $RecipientRestrictionFilter,
  [string] $ScopeName = 'RingCentral archiver mailboxes',
  [string] $DisplayName = 'RingCentral archiver',
  [string] $TestMailbox
)

$ErrorActionPreference = 'Stop'
$role = 'Application Mail.ReadWrite'

if (-not (Get-Command Get-ServicePrincipal -ErrorAction SilentlyContinue)) {
  Import-Module ExchangeOnlineManagement
  Connect-ExchangeOnline -ShowBanner:$false
}

$servicePrincipal = Get-ServicePrincipal -Identity $AppId.ToString() -ErrorAction SilentlyContinue
if (-not $servicePrincipal) {
  if ($PSCmdlet.ShouldProcess($AppId, 'New-ServicePrincipal')) {
    New-ServicePrincipal -AppId $AppId.ToString() -ObjectId $ServicePrincipalObjectId.ToString() -DisplayName $DisplayName | Out-Null
  }
  Write-Host "Created the Exchange service principal for $AppId"
}

$scope = Get-ManagementScope -Identity $ScopeName -ErrorAction SilentlyContinue
if ($scope) {
  if ($PSCmdlet.ShouldProcess($ScopeName, 'Set-ManagementScope')) {
    Set-ManagementScope -Identity $ScopeName -RecipientRestrictionFilter $RecipientRestrictionFilter
  }
  Write-Host "Updated management scope '$ScopeName'"
} else {
  if ($PSCmdlet.ShouldProcess($ScopeName, 'New-ManagementScope')) {
    New-ManagementScope -Name $ScopeName -RecipientRestrictionFilter $RecipientRestrictionFilter | Out-Null
  }
  Write-Host "Created management scope '$ScopeName'"
}

$existing = Get-ManagementRoleAssignment -Role $role -GetEffectiveUsers:$false -ErrorAction SilentlyContinue |
  Where-Object { $_.RoleAssigneeName -eq $AppId.ToString() -or $_.RoleAssigneeName -eq $DisplayName -or $_.App -eq $AppId.ToString() }
if ($existing) {
  Write-Host "Role '$role' is already assigned to the app"
} elseif ($PSCmdlet.ShouldProcess($AppId, "New-ManagementRoleAssignment $role")) {
  New-ManagementRoleAssignment -App $AppId.ToString() -Role $role -CustomResourceScope $ScopeName | Out-Null
  Write-Host "Assigned '$role' within '$ScopeName'"
}

if ($TestMailbox) {
  # Bypasses Exchange's permission cache, which can take 30 minutes to 2 hours to pick up changes.
  Test-ServicePrincipalAuthorization -Identity $AppId.ToString() -Resource $TestMailbox | Format-Table
}

Write-Host @"

Next: remove the tenant-wide Mail.ReadWrite consent in Entra, or this scope restricts nothing:
  ./scripts/remove-tenant-wide-mail-consent.sh --app-id $AppId
Until Exchange's cache refreshes (up to 2 hours), deliveries may be refused with 403 and are retried.
"@
