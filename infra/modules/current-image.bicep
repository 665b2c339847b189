// The image the gateway container app runs now, so that re-provisioning keeps what `azd deploy` put there
// instead of going back to the placeholder. A separate module because a template cannot read the resource it
// is about to write.

@description('True when the container app exists already (azd sets SERVICE_GATEWAY_RESOURCE_EXISTS).')
param exists bool

@description('Name of the container app.')
param name string

resource app 'Microsoft.App/containerApps@2025-01-01' existing = if (exists) {
  name: name
}

@description('The image of the first container, or empty when the app does not exist yet.')
output image string = exists ? app!.properties.template.containers[0].image : ''
