// Everything the archiver needs in one resource group: Function App (Flex Consumption),
// storage, Key Vault, monitoring and the role assignments that tie them together.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; seeds the resource names and tags every resource.')
param environmentName string

@minLength(1)
@description('Region for every resource. It must offer the Flex Consumption plan.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Resource group name. Empty = rg-<environmentName>.')
param resourceGroupName string = ''

@description('Object id of the admin running azd (azd fills AZURE_PRINCIPAL_ID). Gets Key Vault Secrets Officer so the hook can store secrets. Empty = none.')
param principalId string = ''

@allowed(['User', 'Group', 'ServicePrincipal'])
param principalType string = 'User'

@minValue(1)
@maxValue(1000)
@description('Most instances the Function App scales out to (azd env MAXIMUM_INSTANCE_COUNT).')
param maximumInstanceCount int = 40

// Product settings (names in shared/config.ts). Secrets are not parameters: they go to Key Vault.
@description('RingCentral API server.')
param ringCentralServerUrl string = 'https://platform.ringcentral.com'
@description('Client id of the RingCentral JWT-auth app.')
param ringCentralClientId string = ''
@description('Microsoft Graph base URL.')
param graphBaseUrl string = 'https://graph.microsoft.com'
@description('Tenant of the Entra app that writes into mailboxes. Empty = this subscription\'s tenant.')
param graphTenantId string = ''
@description('Client (application) id of the Entra app that writes into mailboxes (scripts/setup-entra-app.sh).')
param graphClientId string = ''
@description('Entra authority host. Empty = the login endpoint of this cloud.')
param authorityHost string = ''
@description('NCRONTAB schedule (six fields, UTC) of the ingest timer.')
param ingestSchedule string = '0 5 * * * *'
@description('ISO date-time the first window starts at. Empty = start of the retention period.')
param captureStart string = ''
@description('A window ends this many minutes before now.')
param captureLagMinutes string = '15'
@description('The RingCentral account\'s Team Messaging retention period, in days.')
param retentionDays string = '90'
@description('Upper bound of the time one export task covers, in hours; windows are sized by volume below it.')
param maxWindowHours string = '4320'
@description('Delay between polls of a running export task, in seconds.')
param exportPollSeconds string = '30'
@description('What to capture, comma-separated: teammessaging (chats), messages (SMS/MMS, pager, fax, voicemail), calls (call log and recordings). Each source needs its RingCentral app permissions (infra/ringcentral-permissions.json; output RINGCENTRAL_APP_PERMISSIONS lists them).')
param captureSources string = 'teammessaging,messages,calls'

@description('RingCentral requests per minute per usage-plan group, as the app plan allows.')
param ringCentralRateLimits string = 'Light=50,Medium=40,Heavy=10,Auth=5'
@description('Mailbox for items of internal people without a mailbox. Empty = skip and report.')
param fallbackMailbox string = ''
@description('Folder under Inbox that receives the archive.')
param archiveFolder string = 'RingCentral'
@description('How long a person-to-mailbox lookup is cached, in hours.')
param peopleCacheHours string = '24'
@description('The mailboxes\' maximum message size in MB (Exchange default 35, up to 150). Files that do not fit stay in Blob storage behind a notice.')
param maxMessageSizeMb string = '35'
@description('Chats with more members than this deliver to the sender and FALLBACK_MAILBOX only; the others are reported as not delivered. 0 = off.')
param fanoutLimit string = '0'
// eml-folder is left out on purpose: it writes to the local file system, which is read-only on Flex.
@allowed(['graph', 'eml-blob'])
@description('Where archive messages go: graph (Microsoft 365 mailboxes) or eml-blob (dry run: .eml files in the \'eml\' blob container).')
param mailboxTarget string = 'graph'

@description('E-mail address the alert rules notify (azd env ALERT_EMAIL). Empty = no notifications: the rules still fire and show under Monitor > Alerts.')
param alertEmail string = ''
@minValue(5)
@maxValue(960)
@description('Minutes between two runs of INGEST_SCHEDULE (60 for the default, hourly). The "no window captured" alert looks back three of them.')
param ingestPeriodMinutes int = 60

var abbrs = loadJsonContent('abbreviations.json')
var storageNames = loadJsonContent('storage-names.json')
var secretNames = loadJsonContent('key-vault-secrets.json')
// RingCentral app permissions are set in the RingCentral Developer Console, not here; this lists
// the ones CAPTURE_SOURCES needs (scripts/setup-entra-app.sh prints the same list).
var ringCentralPermissions = loadJsonContent('ringcentral-permissions.json')
var captureSourceList = map(split(captureSources, ','), source => toLower(trim(source)))
var ringCentralAppPermissions = union(
  ringCentralPermissions.always,
  flatten(map(
    filter(captureSourceList, source => contains(ringCentralPermissions.bySource, source)),
    source => ringCentralPermissions.bySource[source]
  ))
)
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
// Flex Consumption deploys the app package from this container; the app's own containers are in storage-names.json.
var deploymentContainerName = 'deployment'
var loginEndpoint = environment().authentication.loginEndpoint
// Names are fixed here, not taken from module outputs, so What-If can predict every resource.
var names = {
  identity: '${abbrs.managedIdentityUserAssignedIdentities}archiver-${resourceToken}'
  storage: '${abbrs.storageStorageAccounts}${resourceToken}'
  keyVault: '${abbrs.keyVaultVaults}${resourceToken}'
  logAnalytics: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
  applicationInsights: '${abbrs.insightsComponents}${resourceToken}'
  plan: '${abbrs.webServerFarms}${resourceToken}'
  functionApp: '${abbrs.webSitesFunctions}archiver-${resourceToken}'
}

resource rg 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

module identity 'core/security/user-assigned-identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: names.identity
    location: location
    tags: tags
  }
}

module storage 'core/storage/storage-account.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: names.storage
    location: location
    tags: tags
    containers: concat(storageNames.containers, [deploymentContainerName])
    queues: flatten(map(storageNames.queues, queue => [queue, '${queue}-poison']))
    tables: storageNames.tables
  }
}

module vault 'core/security/key-vault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: names.keyVault
    location: location
    tags: tags
  }
}

module monitoring 'core/monitor/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: names.logAnalytics
    applicationInsightsName: names.applicationInsights
    location: location
    tags: tags
  }
}

module alerts 'app/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  dependsOn: [monitoring]
  params: {
    location: location
    tags: tags
    applicationInsightsName: names.applicationInsights
    alertEmail: alertEmail
    ingestPeriodMinutes: ingestPeriodMinutes
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  dependsOn: [storage, monitoring, vault]
  params: {
    storageAccountName: names.storage
    applicationInsightsName: names.applicationInsights
    keyVaultName: names.keyVault
    identityName: names.identity
    identityPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
    userPrincipalType: principalType
  }
}

module archiver 'app/archiver.bicep' = {
  name: 'archiver'
  scope: rg
  // The app reaches storage and Key Vault at start-up: its roles come first (rbac waits for the resources).
  dependsOn: [rbac]
  params: {
    name: names.functionApp
    planName: names.plan
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: names.storage
    deploymentContainerName: deploymentContainerName
    applicationInsightsName: names.applicationInsights
    keyVaultName: names.keyVault
    secretNames: secretNames
    maximumInstanceCount: maximumInstanceCount
    settings: {
      RINGCENTRAL_SERVER_URL: ringCentralServerUrl
      RINGCENTRAL_CLIENT_ID: ringCentralClientId
      GRAPH_BASE_URL: graphBaseUrl
      GRAPH_TENANT_ID: !empty(graphTenantId) ? graphTenantId : tenant().tenantId
      GRAPH_CLIENT_ID: graphClientId
      AZURE_AUTHORITY_HOST: !empty(authorityHost)
        ? authorityHost
        : (endsWith(loginEndpoint, '/') ? take(loginEndpoint, length(loginEndpoint) - 1) : loginEndpoint)
      INGEST_SCHEDULE: ingestSchedule
      CAPTURE_START: captureStart
      CAPTURE_LAG_MINUTES: captureLagMinutes
      RETENTION_DAYS: retentionDays
      MAX_WINDOW_HOURS: maxWindowHours
      EXPORT_POLL_SECONDS: exportPollSeconds
      CAPTURE_SOURCES: captureSources
      RINGCENTRAL_RATE_LIMITS: ringCentralRateLimits
      FALLBACK_MAILBOX: fallbackMailbox
      ARCHIVE_FOLDER: archiveFolder
      PEOPLE_CACHE_HOURS: peopleCacheHours
      MAX_MESSAGE_SIZE_MB: maxMessageSizeMb
      FANOUT_LIMIT: fanoutLimit
      MAILBOX_TARGET: mailboxTarget
    }
  }
}

output AZURE_LOCATION string = location
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = archiver.outputs.name
output AZURE_FUNCTION_APP_URL string = archiver.outputs.uri
output AZURE_KEY_VAULT_NAME string = vault.outputs.name
output AZURE_KEY_VAULT_ENDPOINT string = vault.outputs.uri
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
@description('RingCentral app permissions to enable in the RingCentral Developer Console for CAPTURE_SOURCES (docs/deploy.md, step 2).')
output RINGCENTRAL_APP_PERMISSIONS string = join(ringCentralAppPermissions, ',')
