using Gateway.ControlPlane.Apis;
using Gateway.ControlPlane.Contracts;
using Gateway.ControlPlane.Security;
using Gateway.Core.Usage;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace Gateway.Functions.Admin;

/// <summary><c>GET /api/admin/v1/usage</c>: <see cref="UsageApi.GetUsage"/>.</summary>
public sealed class GetUsageFunction(UsageReporter reporter, TimeProvider time)
{
    [Function(nameof(UsageApi.GetUsage))]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "admin/v1/usage")] HttpRequest request) =>
        AdminFunction.RunAsync(request, ControlPlanePolicies.AnyRole, () => UsageApi.GetUsage(UsageQuery.Of(request.Query), request, reporter, time, request.HttpContext.RequestAborted));
}
