using Gateway.ControlPlane.Apis;
using Gateway.ControlPlane.Audit;
using Gateway.ControlPlane.Security;
using Gateway.Core.Keys;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace Gateway.Functions.Admin;

/// <summary><c>POST /api/admin/v1/keys/{id}/reactivate</c>: <see cref="KeysApi.ReactivateKey"/>.</summary>
public sealed class ReactivateKeyFunction(ApiKeyService keys, AuditLog audit)
{
    [Function(nameof(KeysApi.ReactivateKey))]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "admin/v1/keys/{id}/reactivate")] HttpRequest request, string id) =>
        AdminFunction.RunAsync(request, ControlPlanePolicies.Admin, () => KeysApi.ReactivateKey(id, request.HttpContext, keys, audit, request.HttpContext.RequestAborted));
}
