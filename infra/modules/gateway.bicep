// The gateway (proxy/) on Azure Container Apps. The data plane (8080) is the public ingress; the admin plane
// (8081) is an additional port mapping that is reachable only from inside the Container Apps environment.
// Every env entry below must be listed in Gateway.Core.DeploymentSettings.Gateway (ConfigurationDriftTests).

@description('Name of the container app.')
param name string

@description('Azure region of the container app.')
param location string

@description('Tags applied to the container app; must include azd-service-name for azd deploy.')
param tags object

@description('Resource id of the Container Apps environment.')
param environmentId string

@description('Default domain of the Container Apps environment, for the internal admin URL.')
param environmentDefaultDomain string

@description('Name of the gateway user-assigned identity (in this resource group).')
param identityName string

@description('Login server of the registry the image comes from.')
param registryLoginServer string

@description('Image to run; empty runs a placeholder until `azd deploy` pushes the gateway image.')
param image string

@description('Fewest replicas; 1 or more keeps the data plane warm and a key-changes subscription alive.')
@minValue(0)
@maxValue(300)
param minReplicas int

@description('Most replicas.')
@minValue(1)
@maxValue(300)
param maxReplicas int

@description('Concurrent HTTP requests per replica at which Container Apps adds a replica.')
@minValue(1)
param concurrentRequestsPerReplica int

@description('Table service endpoint (managed identity).')
param tableEndpoint string

@description('Prefix of every table name.')
param tablePrefix string

@description('Environment part of API keys (gw_<environment>_...).')
param keysEnvironment string

@description('Fully qualified Service Bus namespace.')
param serviceBusNamespace string

@description('Service Bus topic of key changes; each replica creates its own subscription on it at start (named after the replica).')
param keyChangesTopic string

@description('Gateway:Keys:CacheRefresh (hh:mm:ss): how stale a cached key may get while key changes do not arrive.')
param keyCacheRefresh string

@description('Key Vault URI (with trailing slash).')
param keyVaultUri string

@description('Name of the admin token secret in Key Vault.')
param adminTokenSecretName string

@description('Name of the role-token signing key secret in Key Vault.')
param signInSigningKeySecretName string

@description('Entra ID sign-in of the admin API (Gateway:SignIn:Entra:*); authority and audience empty leave it off.')
param entraSignIn {
  authority: string
  audience: string
  roleClaim: string
  customerClaim: string
}

@description('Address of the API behind the gateway (the YARP cluster destination).')
param upstreamAddress string

@description('Application Insights connection string.')
param applicationInsightsConnectionString string

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: identityName
}

var dataPort = 8080
var adminPort = 8081

// Listens on 8080 like the gateway, so the first revision is healthy before the real image exists.
var placeholderImage = 'mcr.microsoft.com/dotnet/samples:aspnetapp'

// The gateway's health endpoints (proxy/Hosting/HealthChecks). Startup allows the minute the gateway waits
// for Table Storage before it listens; liveness checks the process only, so a storage outage never
// restarts replicas; readiness turns 503 once usage counts have waited longer than
// Gateway:Metering:UnhealthyAfter (30 s) to reach storage.
// A variable, not inline, so the compiled template keeps the probes as a literal array (HealthProbeTests reads it).
var probes = [
  {
    type: 'Startup'
    httpGet: { path: '/healthz/live', port: dataPort }
    periodSeconds: 10
    timeoutSeconds: 3
    failureThreshold: 10
  }
  {
    type: 'Liveness'
    httpGet: { path: '/healthz/live', port: dataPort }
    periodSeconds: 10
    timeoutSeconds: 3
    failureThreshold: 3
  }
  {
    type: 'Readiness'
    httpGet: { path: '/healthz/ready', port: dataPort }
    periodSeconds: 5
    timeoutSeconds: 4
    failureThreshold: 3
  }
]

resource gateway 'Microsoft.App/containerApps@2025-01-01' = {
  name: name
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    environmentId: environmentId
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: true
        targetPort: dataPort
        transport: 'http'
        allowInsecure: false
        // The admin API: never public. `external: false` keeps it inside the environment
        // (http://<app>:8081 or http://<app>.internal.<domain>:8081 from another app or a console).
        additionalPortMappings: [
          {
            external: false
            targetPort: adminPort
            exposedPort: adminPort
          }
        ]
      }
      registries: [
        {
          server: registryLoginServer
          identity: identity.id
        }
      ]
      // Key Vault references: the platform fetches the value with the gateway identity.
      secrets: [
        {
          name: 'admin-token'
          keyVaultUrl: '${keyVaultUri}secrets/${adminTokenSecretName}'
          identity: identity.id
        }
        {
          name: 'signin-signing-key'
          keyVaultUrl: '${keyVaultUri}secrets/${signInSigningKeySecretName}'
          identity: identity.id
        }
      ]
    }
    template: {
      containers: [
        {
          name: 'gateway'
          image: empty(image) ? placeholderImage : image
          resources: {
            cpu: json('1.0')
            memory: '2Gi'
          }
          // The placeholder image has none of the health paths.
          probes: empty(image) ? [] : probes
          // Gateway__Metering__InstanceId stays unset: each replica then writes usage under its own host name.
          // One fixed value for all replicas would make them overwrite each other's usage rows.
          // Gateway__ServiceBus__Subscription stays unset for the same reason: each replica then subscribes to
          // key-changes under its own host name (the replica name), creating the subscription at start with
          // auto-delete after an hour idle, so a replica scaled in or replaced leaves nothing behind.
          env: [
            { name: 'Gateway__Storage__TableEndpoint', value: tableEndpoint }
            { name: 'Gateway__Storage__TablePrefix', value: tablePrefix }
            { name: 'Gateway__Admin__Token', secretRef: 'admin-token' }
            { name: 'Gateway__SignIn__SigningKey', secretRef: 'signin-signing-key' }
            { name: 'Gateway__SignIn__Entra__Authority', value: entraSignIn.authority }
            { name: 'Gateway__SignIn__Entra__Audience', value: entraSignIn.audience }
            { name: 'Gateway__SignIn__Entra__RoleClaim', value: entraSignIn.roleClaim }
            { name: 'Gateway__SignIn__Entra__CustomerClaim', value: entraSignIn.customerClaim }
            { name: 'Gateway__Keys__Environment', value: keysEnvironment }
            { name: 'Gateway__Listen__Address', value: 'any' }
            { name: 'Gateway__Listen__DataPort', value: string(dataPort) }
            { name: 'Gateway__Listen__AdminPort', value: string(adminPort) }
            { name: 'Gateway__ServiceBus__FullyQualifiedNamespace', value: serviceBusNamespace }
            { name: 'Gateway__ServiceBus__Topic', value: keyChangesTopic }
            { name: 'Gateway__Keys__CacheRefresh', value: keyCacheRefresh }
            { name: 'ReverseProxy__Clusters__social__Destinations__upstream__Address', value: upstreamAddress }
            { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: applicationInsightsConnectionString }
            { name: 'AZURE_CLIENT_ID', value: identity.properties.clientId }
          ]
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
        rules: [
          {
            name: 'http-concurrency'
            http: {
              metadata: {
                concurrentRequests: string(concurrentRequestsPerReplica)
              }
            }
          }
        ]
      }
    }
  }
}

@description('Public URL of the data plane.')
output url string = 'https://${gateway.properties.configuration.ingress.fqdn}'

@description('Admin API URL, reachable only from inside the Container Apps environment.')
output adminUrl string = 'http://${gateway.name}.internal.${environmentDefaultDomain}:${adminPort}'

@description('Name of the container app.')
output name string = gateway.name
