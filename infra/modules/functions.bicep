// The control plane (functions/) on Azure Functions Flex Consumption, .NET isolated worker. It gets its own
// host storage account (leases, timers, deployment packages), separate from the gateway tables, so the blob
// rights the Functions host needs stay off the data account. Every app setting below must be listed in
// Gateway.Core.DeploymentSettings.Functions or be a platform setting (ConfigurationDriftTests).

@description('Name of the function app.')
param name string

@description('Name of the Flex Consumption plan.')
param planName string

@description('Name of the Functions host storage account (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param hostStorageName string

@description('Azure region of the function app.')
param location string

@description('Tags applied to the function app; must include azd-service-name for azd deploy.')
param tags object

@description('Tags applied to the plan and the host storage account.')
param supportingTags object

@description('Name of the control-plane user-assigned identity (in this resource group).')
param identityName string

@description('Most instances Flex Consumption may scale out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int

@description('Memory per instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int

@description('Table service endpoint (managed identity).')
param tableEndpoint string

@description('Prefix of every table name.')
param tablePrefix string

@description('Environment part of API keys (gw_<environment>_...).')
param keysEnvironment string

@description('Fully qualified Service Bus namespace.')
param serviceBusNamespace string

@description('Service Bus topic the control plane publishes key changes to.')
param keyChangesTopic string

@description('Name of the Key Vault holding the secrets.')
param keyVaultName string

@description('Names of the Key Vault secrets, keyed adminToken, signInSigningKey, stripeSecretKey, stripeWebhookSecret.')
param secretNames {
  adminToken: string
  signInSigningKey: string
  stripeSecretKey: string
  stripeWebhookSecret: string
}

@description('Entra ID sign-in of the admin API (Gateway:SignIn:Entra:*); authority and audience empty leave it off.')
param entraSignIn {
  authority: string
  audience: string
  roleClaim: string
  customerClaim: string
}

@description('Application Insights connection string.')
param applicationInsightsConnectionString string

import { roles } from 'roles.bicep'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: identityName
}

var deploymentContainerName = 'app-package'

resource hostStorage 'Microsoft.Storage/storageAccounts@2025-01-01' = {
  name: hostStorageName
  location: location
  tags: supportingTags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-01-01' = {
  parent: hostStorage
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

// The Functions host keeps leases, timer state and keys in blobs; Flex reads the deployment package from
// the container. Both with the app's identity; Blob Data Owner is what the host documents for AzureWebJobsStorage.
resource hostBlobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorage.id, identity.id, roles.storageBlobDataOwner)
  scope: hostStorage
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: planName
  location: location
  tags: supportingTags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-11-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identity.id
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${hostStorage.properties.primaryEndpoints.blob}${deploymentContainer.name}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      // Flex Consumption sets FUNCTIONS_EXTENSION_VERSION and FUNCTIONS_WORKER_RUNTIME from functionAppConfig
      // and rejects them as app settings. Secrets are Key Vault references, resolved with keyVaultReferenceIdentity.
      appSettings: [
        { name: 'AzureWebJobsStorage__accountName', value: hostStorage.name }
        { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
        { name: 'AzureWebJobsStorage__clientId', value: identity.properties.clientId }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: applicationInsightsConnectionString }
        { name: 'AZURE_CLIENT_ID', value: identity.properties.clientId }
        { name: 'Gateway__Storage__TableEndpoint', value: tableEndpoint }
        { name: 'Gateway__Storage__TablePrefix', value: tablePrefix }
        { name: 'Gateway__Keys__Environment', value: keysEnvironment }
        { name: 'Gateway__ServiceBus__FullyQualifiedNamespace', value: serviceBusNamespace }
        { name: 'Gateway__ServiceBus__Topic', value: keyChangesTopic }
        { name: 'Gateway__Admin__Token', value: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${secretNames.adminToken})' }
        { name: 'Gateway__SignIn__SigningKey', value: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${secretNames.signInSigningKey})' }
        { name: 'Gateway__SignIn__Entra__Authority', value: entraSignIn.authority }
        { name: 'Gateway__SignIn__Entra__Audience', value: entraSignIn.audience }
        { name: 'Gateway__SignIn__Entra__RoleClaim', value: entraSignIn.roleClaim }
        { name: 'Gateway__SignIn__Entra__CustomerClaim', value: entraSignIn.customerClaim }
        { name: 'Gateway__Stripe__SecretKey', value: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${secretNames.stripeSecretKey})' }
        { name: 'Gateway__Stripe__WebhookSecret', value: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${secretNames.stripeWebhookSecret})' }
      ]
    }
  }
  dependsOn: [
    hostBlobOwner
  ]
}

@description('Name of the function app.')
output name string = functionApp.name

@description('Default URL of the function app (the control-plane API is under /api).')
output url string = 'https://${functionApp.properties.defaultHostName}'
