using Gateway.ControlPlane.Apis;
using Gateway.ControlPlane.Security;
using Gateway.Core.Plans;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace Gateway.Functions.Admin;

/// <summary><c>GET /api/admin/v1/plans</c>: <see cref="PlansApi.ListPlans"/>.</summary>
public sealed class ListPlansFunction(PlanCatalog plans)
{
    [Function(nameof(PlansApi.ListPlans))]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "admin/v1/plans")] HttpRequest request) =>
        AdminFunction.RunAsync(request, ControlPlanePolicies.AnyRole, () => Task.FromResult(PlansApi.ListPlans(plans)));
}
