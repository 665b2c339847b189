// Gateway in production: the gateway on Container Apps (data plane public on 8080, admin plane 8081 internal),
// the control plane on Functions Flex Consumption, Table Storage, Service Bus, Key Vault, Application Insights.
// Every identity is user-assigned and gets only the roles it needs. See infra/README.md.

targetScope = 'resourceGroup'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment (AZURE_ENV_NAME); tagged on every resource as azd-env-name.')
param environmentName string

@description('Azure region for all resources except the portal.')
param location string = resourceGroup().location

@description('Object id of the user or pipeline running the deployment (AZURE_PRINCIPAL_ID); gets Key Vault Secrets Officer to set and rotate secrets. Empty for none.')
param principalId string = ''

@description('True when the gateway container app exists already (SERVICE_GATEWAY_RESOURCE_EXISTS, set by azd); keeps its current image on re-provisioning.')
param gatewayExists bool = false

@description('Fewest gateway replicas. 1 or more keeps the data plane warm; 0 allows scale to zero at the price of a cold start.')
@minValue(0)
@maxValue(300)
param gatewayMinReplicas int = 1

@description('Most gateway replicas.')
@minValue(1)
@maxValue(300)
param gatewayMaxReplicas int = 10

@description('Concurrent HTTP requests per gateway replica at which Container Apps adds a replica.')
@minValue(1)
param gatewayConcurrentRequests int = 100

@description('Address of the API the gateway protects, e.g. https://api.example.com/ (the YARP cluster destination).')
@minLength(1)
param upstreamUrl string

@description('Prefix of every table name (letters and digits, starting with a letter), so deployments can share an account.')
@maxLength(21)
param tablePrefix string = 'gw'

@description('Environment part of issued API keys (gw_<environment>_...): 2 to 8 lowercase letters.')
@minLength(2)
@maxLength(8)
param keysEnvironment string = 'live'

@description('Gateway:Keys:CacheRefresh, a .NET TimeSpan (hh:mm:ss): the longest a replica serves a changed key when the key-changes topic does not reach it (Service Bus unreachable), plus one storage read.')
param gatewayKeyCacheRefresh string = '00:05:00'

@description('Replication of the table storage account.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GZRS'
])
param tableStorageSku string = 'Standard_ZRS'

@description('Most instances the control plane may scale out to on Flex Consumption.')
@minValue(40)
@maxValue(1000)
param functionsMaximumInstanceCount int = 40

@description('Name of the compliance-flags subscription that downstream tools read.')
param complianceSubscriptionName string = 'downstream-tools'

@description('Principal ids of downstream tools allowed to receive compliance flags (may be empty).')
param complianceReaderPrincipalIds string[] = []

@description('Days Log Analytics keeps data.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 30

@description('Create a Static Web App for the portal\'s static assets.')
param deployPortal bool = false

@description('Region of the portal Static Web App (the service exists in a few regions only).')
@allowed([
  'centralus'
  'eastasia'
  'eastus2'
  'westeurope'
  'westus2'
])
param portalLocation string = 'westeurope'

@secure()
@description('Admin API token (at least 16 characters) written to Key Vault; empty keeps the vault\'s current secret. Needed on the first deployment.')
param adminToken string = ''

@secure()
@description('Signing key of the control plane\'s role tokens (Gateway:SignIn:SigningKey, at least 32 characters) written to Key Vault; empty keeps the vault\'s current secret. Needed on the first deployment.')
param signInSigningKey string = ''

@description('Entra ID sign-in of the admin API (Gateway:SignIn:Entra:*), the same for the gateway and the function app: authority (e.g. https://login.microsoftonline.com/<tenant-id>/v2.0) and audience (e.g. api://gateway-admin); both empty leave Entra sign-in off. roleClaim holds the app roles admin, compliance, developer; customerClaim binds a developer to its customer.')
param entraSignIn {
  authority: string
  audience: string
  roleClaim: string
  customerClaim: string
} = {
  authority: ''
  audience: ''
  roleClaim: 'roles'
  customerClaim: 'customer_id'
}

@secure()
@description('Stripe secret key written to Key Vault; empty keeps the vault\'s current secret.')
param stripeSecretKey string = ''

@secure()
@description('Stripe webhook signing secret written to Key Vault; empty keeps the vault\'s current secret.')
param stripeWebhookSecret string = ''

var resourceToken = toLower(uniqueString(resourceGroup().id))
var tags = {
  'azd-env-name': environmentName
}
var secretNames = {
  adminToken: 'gateway-admin-token'
  signInSigningKey: 'gateway-signin-signing-key'
  stripeSecretKey: 'stripe-secret-key'
  stripeWebhookSecret: 'stripe-webhook-secret'
}
var gatewayAppName = 'ca-gateway-${resourceToken}'

// One identity per workload, so each gets only its own roles. Modules look them up by name.
resource gatewayIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: 'id-gateway-${resourceToken}'
  location: location
  tags: tags
}

resource functionsIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: 'id-functions-${resourceToken}'
  location: location
  tags: tags
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
    retentionInDays: logRetentionInDays
  }
}

module tableStorage 'modules/table-storage.bicep' = {
  name: 'table-storage'
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    skuName: tableStorageSku
    tableDataContributorIdentityNames: [
      gatewayIdentity.name
      functionsIdentity.name
    ]
  }
}

module serviceBus 'modules/servicebus.bicep' = {
  name: 'service-bus'
  params: {
    name: 'sb-${resourceToken}'
    location: location
    tags: tags
    gatewayIdentityName: gatewayIdentity.name
    functionsIdentityName: functionsIdentity.name
    complianceSubscriptionName: complianceSubscriptionName
    complianceReaderPrincipalIds: complianceReaderPrincipalIds
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'key-vault'
  params: {
    name: 'kv-${resourceToken}'
    location: location
    tags: tags
    secretsUserIdentityNames: [
      gatewayIdentity.name
      functionsIdentity.name
    ]
    deployerPrincipalId: principalId
    secretNames: secretNames
    adminToken: adminToken
    signInSigningKey: signInSigningKey
    stripeSecretKey: stripeSecretKey
    stripeWebhookSecret: stripeWebhookSecret
  }
}

module registry 'modules/registry.bicep' = {
  name: 'registry'
  params: {
    name: 'cr${resourceToken}'
    location: location
    tags: tags
    pullIdentityNames: [
      gatewayIdentity.name
    ]
  }
}

module containerAppsEnvironment 'modules/container-apps-environment.bicep' = {
  name: 'container-apps-environment'
  params: {
    name: 'cae-${resourceToken}'
    location: location
    tags: tags
    logAnalyticsId: monitoring.outputs.logAnalyticsId
  }
}

module gatewayImage 'modules/current-image.bicep' = {
  name: 'gateway-current-image'
  params: {
    exists: gatewayExists
    name: gatewayAppName
  }
}

module gateway 'modules/gateway.bicep' = {
  name: 'gateway'
  params: {
    name: gatewayAppName
    location: location
    tags: union(tags, { 'azd-service-name': 'gateway' })
    environmentId: containerAppsEnvironment.outputs.id
    environmentDefaultDomain: containerAppsEnvironment.outputs.defaultDomain
    identityName: gatewayIdentity.name
    registryLoginServer: registry.outputs.loginServer
    image: gatewayImage.outputs.image
    minReplicas: gatewayMinReplicas
    maxReplicas: gatewayMaxReplicas
    concurrentRequestsPerReplica: gatewayConcurrentRequests
    tableEndpoint: tableStorage.outputs.tableEndpoint
    tablePrefix: tablePrefix
    keysEnvironment: keysEnvironment
    serviceBusNamespace: serviceBus.outputs.fullyQualifiedNamespace
    keyChangesTopic: serviceBus.outputs.keyChangesTopic
    keyCacheRefresh: gatewayKeyCacheRefresh
    keyVaultUri: keyVault.outputs.uri
    adminTokenSecretName: secretNames.adminToken
    signInSigningKeySecretName: secretNames.signInSigningKey
    entraSignIn: entraSignIn
    upstreamAddress: upstreamUrl
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
  }
}

module functions 'modules/functions.bicep' = {
  name: 'functions'
  params: {
    name: 'func-${resourceToken}'
    planName: 'plan-${resourceToken}'
    hostStorageName: 'stfn${resourceToken}'
    location: location
    tags: union(tags, { 'azd-service-name': 'controlplane' })
    supportingTags: tags
    identityName: functionsIdentity.name
    maximumInstanceCount: functionsMaximumInstanceCount
    instanceMemoryMB: 2048
    tableEndpoint: tableStorage.outputs.tableEndpoint
    tablePrefix: tablePrefix
    keysEnvironment: keysEnvironment
    serviceBusNamespace: serviceBus.outputs.fullyQualifiedNamespace
    keyChangesTopic: serviceBus.outputs.keyChangesTopic
    keyVaultName: keyVault.outputs.name
    secretNames: secretNames
    entraSignIn: entraSignIn
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
  }
}

module portal 'modules/portal.bicep' = if (deployPortal) {
  name: 'portal'
  params: {
    name: 'stapp-portal-${resourceToken}'
    location: portalLocation
    tags: tags
  }
}

@description('Public URL of the gateway data plane (port 8080 behind HTTPS ingress).')
output GATEWAY_URL string = gateway.outputs.url

@description('Admin API URL on port 8081: an internal FQDN, reachable only from inside the Container Apps environment.')
output GATEWAY_ADMIN_URL string = gateway.outputs.adminUrl

@description('URL of the control-plane function app.')
output CONTROL_PLANE_URL string = functions.outputs.url

@description('Portal URL, or empty when deployPortal is false.')
output PORTAL_URL string = deployPortal ? portal!.outputs.url : ''

@description('Registry azd pushes the gateway image to.')
output AZURE_CONTAINER_REGISTRY_ENDPOINT string = registry.outputs.loginServer

@description('Key Vault holding the admin token and the Stripe secrets.')
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name

@description('Table service endpoint.')
output AZURE_TABLE_ENDPOINT string = tableStorage.outputs.tableEndpoint

@description('Fully qualified Service Bus namespace.')
output AZURE_SERVICEBUS_NAMESPACE string = serviceBus.outputs.fullyQualifiedNamespace
