using Gateway.ControlPlane.Apis;
using Gateway.ControlPlane.Audit;
using Gateway.ControlPlane.Security;
using Gateway.Core.Keys;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace Gateway.Functions.Admin;

/// <summary><c>POST /api/admin/v1/keys/{id}/suspend</c>: <see cref="KeysApi.SuspendKey"/>.</summary>
public sealed class SuspendKeyFunction(ApiKeyService keys, AuditLog audit)
{
    [Function(nameof(KeysApi.SuspendKey))]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "admin/v1/keys/{id}/suspend")] HttpRequest request, string id) =>
        AdminFunction.RunAsync(request, ControlPlanePolicies.Admin, () => KeysApi.SuspendKey(id, request.HttpContext, keys, audit, request.HttpContext.RequestAborted));
}
