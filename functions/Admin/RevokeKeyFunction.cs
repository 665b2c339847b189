using Gateway.ControlPlane.Apis;
using Gateway.ControlPlane.Security;
using Gateway.Core.Keys;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace Gateway.Functions.Admin;

/// <summary><c>POST /api/admin/v1/keys/{id}/revoke</c>: <see cref="KeysApi.RevokeKey"/>.</summary>
public sealed class RevokeKeyFunction(ApiKeyService keys)
{
    [Function(nameof(KeysApi.RevokeKey))]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "admin/v1/keys/{id}/revoke")] HttpRequest request, string id) =>
        AdminFunction.RunAsync(request, ControlPlanePolicies.Admin, () => KeysApi.RevokeKey(id, keys, request.HttpContext.RequestAborted));
}
