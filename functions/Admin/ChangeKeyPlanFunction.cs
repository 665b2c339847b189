using Gateway.Compliance;
using Gateway.ControlPlane.Apis;
using Gateway.ControlPlane.Audit;
using Gateway.ControlPlane.Security;
using Gateway.Core.Keys;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace Gateway.Functions.Admin;

/// <summary><c>PUT /api/admin/v1/keys/{id}/plan</c>: <see cref="KeysApi.ChangeKeyPlan"/>.</summary>
public sealed class ChangeKeyPlanFunction(ApiKeyService keys, KeyLicences licences, AuditLog audit)
{
    [Function(nameof(KeysApi.ChangeKeyPlan))]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "admin/v1/keys/{id}/plan")] HttpRequest request, string id) =>
        AdminFunction.RunAsync(request, ControlPlanePolicies.Admin, () => KeysApi.ChangeKeyPlan(id, request, keys, licences, audit, request.HttpContext.RequestAborted));
}
