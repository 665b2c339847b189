using Gateway.ControlPlane.Apis;
using Gateway.ControlPlane.Contracts;
using Gateway.ControlPlane.Security;
using Gateway.Core.Keys;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace Gateway.Functions.Admin;

/// <summary><c>GET /api/admin/v1/keys</c>: <see cref="KeysApi.ListKeys"/>.</summary>
public sealed class ListKeysFunction(ApiKeyService keys)
{
    [Function(nameof(KeysApi.ListKeys))]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "admin/v1/keys")] HttpRequest request) =>
        AdminFunction.RunAsync(request, ControlPlanePolicies.AnyRole, () => KeysApi.ListKeys(KeyQuery.Of(request.Query), request.HttpContext.User, keys, request.HttpContext.RequestAborted));
}
