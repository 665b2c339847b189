using Gateway.ControlPlane.Apis;
using Gateway.ControlPlane.Audit;
using Gateway.ControlPlane.Security;
using Gateway.Core.Keys;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace Gateway.Functions.Admin;

/// <summary><c>PATCH /api/admin/v1/keys/{id}</c>: <see cref="KeysApi.RenameKey"/>.</summary>
public sealed class RenameKeyFunction(ApiKeyService keys, AuditLog audit)
{
    [Function(nameof(KeysApi.RenameKey))]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = "admin/v1/keys/{id}")] HttpRequest request, string id) =>
        AdminFunction.RunAsync(request, ControlPlanePolicies.ManageKeys, () => KeysApi.RenameKey(id, request, keys, audit, request.HttpContext.RequestAborted));
}
