// The archiver's Function App on the Flex Consumption plan, and every app setting it reads.
// The appSettings array below is the contract with shared/config.ts: a test reads the setting
// names from the compiled template.

@description('Values of the product settings (non-secret); names as in shared/config.ts.')
type ProductSettings = {
  RINGCENTRAL_SERVER_URL: string
  RINGCENTRAL_CLIENT_ID: string
  GRAPH_BASE_URL: string
  GRAPH_TENANT_ID: string
  GRAPH_CLIENT_ID: string
  AZURE_AUTHORITY_HOST: string
  INGEST_SCHEDULE: string
  CAPTURE_START: string
  CAPTURE_LAG_MINUTES: string
  RETENTION_DAYS: string
  MAX_WINDOW_HOURS: string
  EXPORT_POLL_SECONDS: string
  CAPTURE_SOURCES: string
  RINGCENTRAL_RATE_LIMITS: string
  FALLBACK_MAILBOX: string
  ARCHIVE_FOLDER: string
  PEOPLE_CACHE_HOURS: string
  MAX_MESSAGE_SIZE_MB: string
  FANOUT_LIMIT: string
  MAILBOX_TARGET: string
}

param name string
param planName string
param location string
param tags { *: string }
param identityId string
param identityClientId string
param storageAccountName string
param deploymentContainerName string
param applicationInsightsName string
param keyVaultName string
@description('Key Vault secret name for each secret setting (infra/key-vault-secrets.json).')
param secretNames {
  RINGCENTRAL_CLIENT_SECRET: string
  RINGCENTRAL_JWT: string
  GRAPH_CLIENT_SECRET: string
}
param settings ProductSettings
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int

resource storage 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource vault 'Microsoft.KeyVault/vaults@2025-05-01' existing = {
  name: keyVaultName
}

// No version in the URI: the app follows the latest version of each secret (re-read on restart).
var vaultSecretsUri = '${vault.properties.vaultUri}secrets/'

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2025-03-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'archiver' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references resolve with the user-assigned identity (the app has no system identity).
    keyVaultReferenceIdentity: identityId
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      runtime: {
        name: 'node'
        version: '22'
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: 2048
      }
    }
    // Flex takes the runtime from functionAppConfig; the older FUNCTIONS_WORKER_RUNTIME,
    // WEBSITE_NODE_DEFAULT_VERSION, WEBSITE_RUN_FROM_PACKAGE and WEBSITE_CONTENT* settings are refused there.
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      appSettings: [
        // Host storage, identity-based (the account allows no shared keys).
        { name: 'AzureWebJobsStorage__blobServiceUri', value: storage.properties.primaryEndpoints.blob }
        { name: 'AzureWebJobsStorage__queueServiceUri', value: storage.properties.primaryEndpoints.queue }
        { name: 'AzureWebJobsStorage__tableServiceUri', value: storage.properties.primaryEndpoints.table }
        { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
        { name: 'AzureWebJobsStorage__clientId', value: identityClientId }
        { name: 'MANAGED_IDENTITY_CLIENT_ID', value: identityClientId }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: applicationInsights.properties.ConnectionString }
        { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${identityClientId};Authorization=AAD' }
        // A heap ceiling makes V8 collect garbage early, so the worker stays small under load
        // (docs/performance.md); the bench runs its hosts with this same value.
        { name: 'NODE_OPTIONS', value: '--max-old-space-size=192' }
        // Secrets: Key Vault references only, so no secret value sits in app settings or deployment history.
        {
          name: 'RINGCENTRAL_CLIENT_SECRET'
          value: '@Microsoft.KeyVault(SecretUri=${vaultSecretsUri}${secretNames.RINGCENTRAL_CLIENT_SECRET})'
        }
        {
          name: 'RINGCENTRAL_JWT'
          value: '@Microsoft.KeyVault(SecretUri=${vaultSecretsUri}${secretNames.RINGCENTRAL_JWT})'
        }
        {
          name: 'GRAPH_CLIENT_SECRET'
          value: '@Microsoft.KeyVault(SecretUri=${vaultSecretsUri}${secretNames.GRAPH_CLIENT_SECRET})'
        }
        // Product settings.
        { name: 'RINGCENTRAL_SERVER_URL', value: settings.RINGCENTRAL_SERVER_URL }
        { name: 'RINGCENTRAL_CLIENT_ID', value: settings.RINGCENTRAL_CLIENT_ID }
        { name: 'GRAPH_BASE_URL', value: settings.GRAPH_BASE_URL }
        { name: 'GRAPH_TENANT_ID', value: settings.GRAPH_TENANT_ID }
        { name: 'GRAPH_CLIENT_ID', value: settings.GRAPH_CLIENT_ID }
        { name: 'AZURE_AUTHORITY_HOST', value: settings.AZURE_AUTHORITY_HOST }
        { name: 'INGEST_SCHEDULE', value: settings.INGEST_SCHEDULE }
        { name: 'CAPTURE_START', value: settings.CAPTURE_START }
        { name: 'CAPTURE_LAG_MINUTES', value: settings.CAPTURE_LAG_MINUTES }
        { name: 'RETENTION_DAYS', value: settings.RETENTION_DAYS }
        { name: 'MAX_WINDOW_HOURS', value: settings.MAX_WINDOW_HOURS }
        { name: 'EXPORT_POLL_SECONDS', value: settings.EXPORT_POLL_SECONDS }
        { name: 'CAPTURE_SOURCES', value: settings.CAPTURE_SOURCES }
        { name: 'RINGCENTRAL_RATE_LIMITS', value: settings.RINGCENTRAL_RATE_LIMITS }
        { name: 'FALLBACK_MAILBOX', value: settings.FALLBACK_MAILBOX }
        { name: 'ARCHIVE_FOLDER', value: settings.ARCHIVE_FOLDER }
        { name: 'PEOPLE_CACHE_HOURS', value: settings.PEOPLE_CACHE_HOURS }
        { name: 'MAX_MESSAGE_SIZE_MB', value: settings.MAX_MESSAGE_SIZE_MB }
        { name: 'FANOUT_LIMIT', value: settings.FANOUT_LIMIT }
        { name: 'MAILBOX_TARGET', value: settings.MAILBOX_TARGET }
      ]
    }
  }
}

// Deployments use Entra ID (azd signs in, the app pulls its package with its identity); basic-auth
// publishing credentials would be a second, password-based way in. ftpsState alone only stops FTP
// from serving; these policies switch the credentials themselves off for both endpoints.
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

output name string = functionApp.name
output uri string = 'https://${functionApp.properties.defaultHostName}'
