// Key Vault in RBAC mode for the four secrets the hosts use. The apps never see the values in their
// configuration: Container Apps and Functions resolve them from here with their managed identities.

@description('Name of the Key Vault (3-24 letters, digits and hyphens).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region of the vault.')
param location string

@description('Tags applied to the vault.')
param tags object

@description('Names of the user-assigned identities (in this resource group) that read secret values.')
param secretsUserIdentityNames string[]

@description('Object id of the person or pipeline running the deployment, given Key Vault Secrets Officer to set and rotate secrets; empty for none.')
param deployerPrincipalId string

@description('Names of the secrets, keyed adminToken, signInSigningKey, stripeSecretKey, stripeWebhookSecret.')
param secretNames {
  adminToken: string
  signInSigningKey: string
  stripeSecretKey: string
  stripeWebhookSecret: string
}

@secure()
@description('Initial admin API token; empty leaves the secret as it is in the vault.')
param adminToken string

@secure()
@description('Initial signing key of role tokens (Gateway:SignIn:SigningKey); empty leaves the secret as it is in the vault.')
param signInSigningKey string

@secure()
@description('Initial Stripe secret key; empty leaves the secret as it is in the vault.')
param stripeSecretKey string

@secure()
@description('Initial Stripe webhook signing secret; empty leaves the secret as it is in the vault.')
param stripeWebhookSecret string

import { roles } from 'roles.bicep'

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
  }
}

// A secret is written only when a value is given, so a later deployment without values never overwrites a
// secret that was rotated in the vault.
resource adminTokenSecret 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = if (!empty(adminToken)) {
  parent: vault
  name: secretNames.adminToken
  properties: {
    value: adminToken
    contentType: 'text/plain'
  }
}

resource signInSigningKeySecret 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = if (!empty(signInSigningKey)) {
  parent: vault
  name: secretNames.signInSigningKey
  properties: {
    value: signInSigningKey
    contentType: 'text/plain'
  }
}

resource stripeSecretKeySecret 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = if (!empty(stripeSecretKey)) {
  parent: vault
  name: secretNames.stripeSecretKey
  properties: {
    value: stripeSecretKey
    contentType: 'text/plain'
  }
}

resource stripeWebhookSecretSecret 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = if (!empty(stripeWebhookSecret)) {
  parent: vault
  name: secretNames.stripeWebhookSecret
  properties: {
    value: stripeWebhookSecret
    contentType: 'text/plain'
  }
}

resource readers 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = [
  for identityName in secretsUserIdentityNames: {
    name: identityName
  }
]

resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (identityName, i) in secretsUserIdentityNames: {
    name: guid(vault.id, readers[i].id, roles.keyVaultSecretsUser)
    scope: vault
    properties: {
      principalId: readers[i].properties.principalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    }
  }
]

resource deployerSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(vault.id, deployerPrincipalId, roles.keyVaultSecretsOfficer)
  scope: vault
  properties: {
    principalId: deployerPrincipalId
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsOfficer)
  }
}

@description('Name of the vault.')
output name string = vault.name

@description('Vault URI, e.g. https://<name>.vault.azure.net/ (ends with a slash).')
output uri string = vault.properties.vaultUri
