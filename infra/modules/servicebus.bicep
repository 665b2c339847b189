// Service Bus: two topics. `key-changes` fans revocations, suspensions and plan changes out to every gateway
// replica (each replica creates its own subscription at start); `compliance-flags` carries flags to downstream
// tools through one standing subscription. Entra ID only: SAS keys are disabled.

@description('Name of the Service Bus namespace.')
param name string

@description('Azure region of the namespace.')
param location string

@description('Tags applied to the namespace.')
param tags object

@description('Name of the gateway identity: creates its own subscription on key-changes at start and receives from it.')
param gatewayIdentityName string

@description('Name of the control-plane (Functions) identity: publishes key changes and compliance flags.')
param functionsIdentityName string

@description('Name of the compliance-flags subscription that downstream tools read.')
param complianceSubscriptionName string

@description('Principal ids of downstream tools allowed to receive from the compliance-flags subscription (may be empty).')
param complianceReaderPrincipalIds string[]

import { roles } from 'roles.bicep'

resource gatewayIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: gatewayIdentityName
}

resource functionsIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: functionsIdentityName
}

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    // Topics need Standard or Premium.
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource keyChanges 'Microsoft.ServiceBus/namespaces/topics@2024-01-01' = {
  parent: namespace
  name: 'key-changes'
  properties: {
    // A cache invalidation is worth nothing after the cache has refreshed on its own (Gateway:Keys:CacheRefresh).
    defaultMessageTimeToLive: 'PT1H'
    maxSizeInMegabytes: 1024
  }
}

resource complianceFlags 'Microsoft.ServiceBus/namespaces/topics@2024-01-01' = {
  parent: namespace
  name: 'compliance-flags'
  properties: {
    defaultMessageTimeToLive: 'P14D'
    maxSizeInMegabytes: 1024
  }
}

resource complianceSubscription 'Microsoft.ServiceBus/namespaces/topics/subscriptions@2024-01-01' = {
  parent: complianceFlags
  name: complianceSubscriptionName
  properties: {
    deadLetteringOnMessageExpiration: true
    maxDeliveryCount: 10
    lockDuration: 'PT1M'
  }
}

// Creating a subscription is a management operation: the data Sender/Receiver roles cannot do it, only Data Owner.
// Scoped to the one topic, so the gateway cannot touch compliance-flags or the namespace.
resource gatewayOwnsKeyChanges 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(keyChanges.id, gatewayIdentity.id, roles.serviceBusDataOwner)
  scope: keyChanges
  properties: {
    principalId: gatewayIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataOwner)
  }
}

resource functionsSendsKeyChanges 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(keyChanges.id, functionsIdentity.id, roles.serviceBusDataSender)
  scope: keyChanges
  properties: {
    principalId: functionsIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataSender)
  }
}

resource functionsSendsComplianceFlags 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(complianceFlags.id, functionsIdentity.id, roles.serviceBusDataSender)
  scope: complianceFlags
  properties: {
    principalId: functionsIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataSender)
  }
}

resource readersReceiveComplianceFlags 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principalId in complianceReaderPrincipalIds: {
    name: guid(complianceSubscription.id, principalId, roles.serviceBusDataReceiver)
    scope: complianceSubscription
    properties: {
      principalId: principalId
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataReceiver)
    }
  }
]

@description('Fully qualified namespace host name, e.g. <name>.servicebus.windows.net.')
output fullyQualifiedNamespace string = parseUri(namespace.properties.serviceBusEndpoint).host

@description('Name of the key-changes topic.')
output keyChangesTopic string = keyChanges.name

@description('Name of the compliance-flags topic.')
output complianceFlagsTopic string = complianceFlags.name
