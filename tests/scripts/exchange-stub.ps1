# Runs a script against stand-ins for the Exchange Online cmdlets it calls. The organisation
# (service principals, management scopes, role assignments, which mailboxes each filter selects)
# is kept in a JSON file, so a second run sees what the first one did; every cmdlet call is
# appended to a JSON-lines log with its bound parameters. Used by tests/scripts/scope-mailboxes.test.ts.
param(
  [Parameter(Mandatory)][string] $Script,
  [Parameter(Mandatory)][string] $StatePath,
  [Parameter(Mandatory)][string] $LogPath,
  [Parameter(Mandatory)][string] $ArgsJson
)
$ErrorActionPreference = 'Stop'
$global:ExoOrg = Get-Content -Raw $StatePath | ConvertFrom-Json -AsHashtable

function Write-Call([string] $name, $bound) {
  $params = @{}
  foreach ($k in $bound.Keys) { $params[$k] = [string]$bound[$k] }
  Add-Content -Path $LogPath -Value (@{ cmdlet = $name; params = $params } | ConvertTo-Json -Compress)
}

function Get-ServicePrincipal {
  [CmdletBinding()] param([Parameter(Position = 0)][string] $Identity)
  Write-Call 'Get-ServicePrincipal' $PSBoundParameters
  $sp = $global:ExoOrg.servicePrincipals | Where-Object { $_.AppId -eq $Identity -or $_.ObjectId -eq $Identity -or $_.Name -eq $Identity }
  if (-not $sp) { Write-Error "The operation couldn't be performed because object '$Identity' couldn't be found." ; return }
  [pscustomobject]$sp
}

function New-ServicePrincipal {
  [CmdletBinding()] param([string] $AppId, [string] $ObjectId, [string] $DisplayName)
  Write-Call 'New-ServicePrincipal' $PSBoundParameters
  if ($global:ExoOrg.servicePrincipals | Where-Object { $_.AppId -eq $AppId }) { throw "A service principal for $AppId already exists." }
  $sp = @{ AppId = $AppId; ObjectId = $ObjectId; DisplayName = $DisplayName; Name = $ObjectId; Identity = $ObjectId }
  $global:ExoOrg.servicePrincipals += $sp
  [pscustomobject]$sp
}

function Get-ManagementScope {
  [CmdletBinding()] param([Parameter(Position = 0)][string] $Identity)
  Write-Call 'Get-ManagementScope' $PSBoundParameters
  $scope = $global:ExoOrg.scopes | Where-Object { $_.Name -eq $Identity }
  if (-not $scope) { Write-Error "The management scope '$Identity' couldn't be found."; return }
  [pscustomobject]$scope
}

function New-ManagementScope {
  [CmdletBinding()] param([string] $Name, [string] $RecipientRestrictionFilter)
  Write-Call 'New-ManagementScope' $PSBoundParameters
  if ($global:ExoOrg.scopes | Where-Object { $_.Name -eq $Name }) { throw "The management scope '$Name' already exists." }
  # Exchange stores the filter re-formatted, with parentheses: the script must not see that as a change.
  $scope = @{ Name = $Name; RecipientFilter = "($RecipientRestrictionFilter)"; ScopeRestrictionType = 'RecipientScope' }
  $global:ExoOrg.scopes += $scope
  [pscustomobject]$scope
}

function Set-ManagementScope {
  [CmdletBinding()] param([string] $Identity, [string] $RecipientRestrictionFilter)
  Write-Call 'Set-ManagementScope' $PSBoundParameters
  ($global:ExoOrg.scopes | Where-Object { $_.Name -eq $Identity }).RecipientFilter = "($RecipientRestrictionFilter)"
}

function Get-ManagementRoleAssignment {
  [CmdletBinding()] param([string] $Role, [switch] $GetEffectiveUsers)
  Write-Call 'Get-ManagementRoleAssignment' $PSBoundParameters
  $global:ExoOrg.assignments | Where-Object { -not $Role -or $_.Role -eq $Role } | ForEach-Object { [pscustomobject]$_ }
}

function New-ManagementRoleAssignment {
  [CmdletBinding()] param([string] $App, [string] $Role, [string] $CustomResourceScope)
  Write-Call 'New-ManagementRoleAssignment' $PSBoundParameters
  $sp = $global:ExoOrg.servicePrincipals | Where-Object { $_.AppId -eq $App -or $_.ObjectId -eq $App -or $_.DisplayName -eq $App }
  if (@($sp).Count -ne 1) { throw "The service principal '$App' couldn't be found or isn't unique." }
  # Like Exchange: duplicates are allowed (each gets its own name); the assignee is the object id.
  $a = @{
    Name = "$Role-$($sp.DisplayName)-$($global:ExoOrg.assignments.Count)"; Identity = "$Role-$($global:ExoOrg.assignments.Count)"; Role = $Role
    RoleAssignee = $sp.ObjectId; RoleAssigneeName = $sp.DisplayName; RoleAssigneeType = 'ServicePrincipal'; CustomResourceScope = $CustomResourceScope
  }
  $global:ExoOrg.assignments += $a
  [pscustomobject]$a
}

function Set-ManagementRoleAssignment {
  [CmdletBinding()] param([string] $Identity, [string] $CustomResourceScope)
  Write-Call 'Set-ManagementRoleAssignment' $PSBoundParameters
  ($global:ExoOrg.assignments | Where-Object { $_.Identity -eq $Identity }).CustomResourceScope = $CustomResourceScope
}

function Test-ServicePrincipalAuthorization {
  [CmdletBinding()] param([string] $Identity, [string] $Resource)
  Write-Call 'Test-ServicePrincipalAuthorization' $PSBoundParameters
  $sp = $global:ExoOrg.servicePrincipals | Where-Object { $_.AppId -eq $Identity -or $_.ObjectId -eq $Identity }
  foreach ($a in @($global:ExoOrg.assignments | Where-Object { $sp -and $_.RoleAssignee -eq $sp.ObjectId })) {
    $scope = $global:ExoOrg.scopes | Where-Object { $_.Name -eq $a.CustomResourceScope }
    # Which mailboxes a filter selects is given by the test, keyed by the filter as Exchange stores it.
    $selected = if ($scope) { @($global:ExoOrg.selects[$scope.RecipientFilter]) } else { @() }
    [pscustomobject]@{ RoleName = $a.Role; GrantedPermissions = 'Mail.ReadWrite'; AllowedResourceScope = $a.CustomResourceScope; ScopeType = 'CustomRecipientScope'; InScope = ($selected -contains $Resource) }
  }
}

$splat = ConvertFrom-Json $ArgsJson -AsHashtable
$code = 0
try {
  & $Script @splat
  if ($LASTEXITCODE) { $code = $LASTEXITCODE }
} catch {
  Write-Host "script failed: $_"
  $code = 1
} finally {
  $global:ExoOrg | ConvertTo-Json -Depth 6 | Set-Content -Path $StatePath
}
exit $code
