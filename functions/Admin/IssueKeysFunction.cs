using Gateway.ControlPlane.Apis;
using Gateway.ControlPlane.Audit;
using Gateway.ControlPlane.Security;
using Gateway.Core.Keys;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace Gateway.Functions.Admin;

/// <summary><c>POST /api/admin/v1/keys/bulk</c>: <see cref="BulkKeysApi.IssueKeys"/>.</summary>
public sealed class IssueKeysFunction(ApiKeyService keys, AuditLog audit)
{
    [Function(nameof(BulkKeysApi.IssueKeys))]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "admin/v1/keys/bulk")] HttpRequest request) =>
        AdminFunction.RunAsync(request, ControlPlanePolicies.Admin, () => BulkKeysApi.IssueKeys(request, keys, audit, request.HttpContext.RequestAborted));
}
