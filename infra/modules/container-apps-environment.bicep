// The Container Apps environment the gateway runs in. Console and system logs go to Log Analytics through a
// diagnostic setting, so no workspace key is handed to the platform.

@description('Name of the Container Apps environment.')
param name string

@description('Azure region of the environment.')
param location string

@description('Tags applied to the environment.')
param tags object

@description('Resource id of the Log Analytics workspace that receives the logs.')
param logAnalyticsId string

resource environment 'Microsoft.App/managedEnvironments@2025-01-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    appLogsConfiguration: {
      destination: 'azure-monitor'
    }
    workloadProfiles: [
      {
        name: 'Consumption'
        workloadProfileType: 'Consumption'
      }
    ]
    zoneRedundant: false
  }
}

resource logs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'logs-to-log-analytics'
  scope: environment
  properties: {
    workspaceId: logAnalyticsId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
  }
}

@description('Resource id of the environment.')
output id string = environment.id

@description('Default domain of the environment; apps get <app>.<domain> and <app>.internal.<domain>.')
output defaultDomain string = environment.properties.defaultDomain
