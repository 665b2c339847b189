using Gateway.ControlPlane.Apis;
using Gateway.ControlPlane.Audit;
using Gateway.ControlPlane.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace Gateway.Functions.Admin;

/// <summary><c>GET /api/admin/v1/audit</c>: <see cref="AuditApi.ListAudit"/>.</summary>
public sealed class ListAuditFunction(AuditLog audit, TimeProvider time)
{
    [Function(nameof(AuditApi.ListAudit))]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "admin/v1/audit")] HttpRequest request) =>
        AdminFunction.RunAsync(request, ControlPlanePolicies.Review, () => AuditApi.ListAudit(AuditQuery.Of(request.Query), audit, time, request.HttpContext.RequestAborted));
}
