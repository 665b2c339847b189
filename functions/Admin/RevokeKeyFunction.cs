using Gateway.ControlPlane.Apis;
using Gateway.ControlPlane.Audit;
using Gateway.ControlPlane.Security;
using Gateway.Core.Keys;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace Gateway.Functions.Admin;

/// <summary><c>POST /api/admin/v1/keys/{id}/revoke</c>: <see cref="KeysApi.RevokeKey"/>.</summary>
public sealed class RevokeKeyFunction(ApiKeyService keys, AuditLog audit)
{
    [Function(nameof(KeysApi.RevokeKey))]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "admin/v1/keys/{id}/revoke")] HttpRequest request, string id) =>
        AdminFunction.RunAsync(request, ControlPlanePolicies.ManageKeys, () => KeysApi.RevokeKey(id, request.HttpContext, keys, audit, request.HttpContext.RequestAborted));
}
