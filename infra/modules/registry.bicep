// Container registry for the gateway image. azd pushes (or builds remotely) here; the gateway pulls with its
// managed identity. No admin user, no anonymous pull.

@description('Name of the registry (5-50 letters and digits).')
@minLength(5)
@maxLength(50)
param name string

@description('Azure region of the registry.')
param location string

@description('Tags applied to the registry.')
param tags object

@description('Names of the user-assigned identities (in this resource group) that pull images.')
param pullIdentityNames string[]

import { roles } from 'roles.bicep'

resource registry 'Microsoft.ContainerRegistry/registries@2025-04-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Basic'
  }
  properties: {
    adminUserEnabled: false
    anonymousPullEnabled: false
    publicNetworkAccess: 'Enabled'
  }
}

resource pullers 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = [
  for identityName in pullIdentityNames: {
    name: identityName
  }
]

resource acrPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (identityName, i) in pullIdentityNames: {
    name: guid(registry.id, pullers[i].id, roles.acrPull)
    scope: registry
    properties: {
      principalId: pullers[i].properties.principalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.acrPull)
    }
  }
]

@description('Login server, e.g. <name>.azurecr.io.')
output loginServer string = registry.properties.loginServer

@description('Name of the registry.')
output name string = registry.name
