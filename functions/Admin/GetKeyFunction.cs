using Gateway.ControlPlane.Apis;
using Gateway.ControlPlane.Security;
using Gateway.Core.Keys;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace Gateway.Functions.Admin;

/// <summary><c>GET /api/admin/v1/keys/{id}</c>: <see cref="KeysApi.GetKey"/>.</summary>
public sealed class GetKeyFunction(ApiKeyService keys)
{
    [Function(nameof(KeysApi.GetKey))]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "admin/v1/keys/{id}")] HttpRequest request, string id) =>
        AdminFunction.RunAsync(request, ControlPlanePolicies.AnyRole, () => KeysApi.GetKey(id, request.HttpContext.User, keys, request.HttpContext.RequestAborted));
}
