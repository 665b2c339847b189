// Parameters for `azd up` / `azd provision`. azd exports its environment (.azure/<env>/.env) as environment
// variables, so every value below can be set with `azd env set NAME value`. Defaults keep `bicep build-params`
// working on a machine with no azd environment (CI).
using './main.bicep'

param environmentName = readEnvironmentVariable('AZURE_ENV_NAME', 'dev')
param location = readEnvironmentVariable('AZURE_LOCATION', 'westeurope')
param principalId = readEnvironmentVariable('AZURE_PRINCIPAL_ID', '')
param gatewayExists = bool(readEnvironmentVariable('SERVICE_GATEWAY_RESOURCE_EXISTS', 'false'))
param gatewayMinReplicas = int(readEnvironmentVariable('GATEWAY_MIN_REPLICAS', '1'))
param gatewayMaxReplicas = int(readEnvironmentVariable('GATEWAY_MAX_REPLICAS', '10'))
param upstreamUrl = readEnvironmentVariable('GATEWAY_UPSTREAM_URL', 'https://upstream.invalid/')
param keysEnvironment = readEnvironmentVariable('GATEWAY_KEYS_ENVIRONMENT', 'live')
param gatewayKeyCacheRefresh = readEnvironmentVariable('GATEWAY_KEY_CACHE_REFRESH', '00:05:00')
param deployPortal = bool(readEnvironmentVariable('DEPLOY_PORTAL', 'false'))

// Entra ID sign-in of the admin API (both hosts); authority and audience unset leave it off.
param entraSignIn = {
  authority: readEnvironmentVariable('GATEWAY_ENTRA_AUTHORITY', '')
  audience: readEnvironmentVariable('GATEWAY_ENTRA_AUDIENCE', '')
  roleClaim: readEnvironmentVariable('GATEWAY_ENTRA_ROLE_CLAIM', 'roles')
  customerClaim: readEnvironmentVariable('GATEWAY_ENTRA_CUSTOMER_CLAIM', 'customer_id')
}

// Secrets: only on the first deployment or to rotate through azd; otherwise leave unset (see infra/README.md).
param adminToken = readEnvironmentVariable('GATEWAY_ADMIN_TOKEN', '')
param signInSigningKey = readEnvironmentVariable('GATEWAY_SIGNIN_SIGNING_KEY', '')
param stripeSecretKey = readEnvironmentVariable('STRIPE_SECRET_KEY', '')
param stripeWebhookSecret = readEnvironmentVariable('STRIPE_WEBHOOK_SECRET', '')
