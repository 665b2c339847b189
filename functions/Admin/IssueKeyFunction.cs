using Gateway.Compliance;
using Gateway.ControlPlane.Apis;
using Gateway.ControlPlane.Audit;
using Gateway.ControlPlane.Security;
using Gateway.Core.Keys;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace Gateway.Functions.Admin;

/// <summary><c>POST /api/admin/v1/keys</c>: <see cref="KeysApi.IssueKey"/>.</summary>
public sealed class IssueKeyFunction(ApiKeyService keys, KeyLicences licences, AuditLog audit)
{
    [Function(nameof(KeysApi.IssueKey))]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "admin/v1/keys")] HttpRequest request) =>
        AdminFunction.RunAsync(request, ControlPlanePolicies.ManageKeys, () => KeysApi.IssueKey(request, request.HttpContext.User, keys, licences, audit, request.HttpContext.RequestAborted));
}
