// The storage account that holds the gateway's tables (keys, customers, usage). Reached only with Entra ID:
// shared keys are off, so no connection string exists that could leak.

@description('Name of the storage account (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region of the storage account.')
param location string

@description('Tags applied to the storage account.')
param tags object

@description('Replication of the account. Usage rows are the billing record, so zone redundancy is the default.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GZRS'
])
param skuName string

@description('Names of the user-assigned identities (in this resource group) that read and write the gateway tables.')
param tableDataContributorIdentityNames string[]

import { roles } from 'roles.bicep'

resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
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

resource contributors 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = [
  for identityName in tableDataContributorIdentityNames: {
    name: identityName
  }
]

resource tableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (identityName, i) in tableDataContributorIdentityNames: {
    name: guid(storage.id, contributors[i].id, roles.storageTableDataContributor)
    scope: storage
    properties: {
      principalId: contributors[i].properties.principalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    }
  }
]

@description('Table service endpoint, e.g. https://<account>.table.<storage suffix>/.')
output tableEndpoint string = storage.properties.primaryEndpoints.table

@description('Name of the storage account.')
output name string = storage.name
