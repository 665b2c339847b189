// Optional static hosting for the portal's static assets: a Static Web App (Free tier). Content is uploaded
// separately (SWA CLI or a later azd service); the portal calls the control-plane API on the function app.

@description('Name of the static web app.')
param name string

@description('Region of the static web app; Static Web Apps exist in a few regions only.')
param location string

@description('Tags applied to the static web app.')
param tags object

resource portal 'Microsoft.Web/staticSites@2024-11-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Free'
    tier: 'Free'
  }
  properties: {
    allowConfigFileUpdates: true
    stagingEnvironmentPolicy: 'Disabled'
  }
}

@description('Public URL of the portal.')
output url string = 'https://${portal.properties.defaultHostname}'
