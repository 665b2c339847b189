using Gateway.ControlPlane.Contracts;
using Gateway.ControlPlane.Security;
using Gateway.Core.Plans;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Gateway.ControlPlane.Apis;

/// <summary><c>/admin/v1/plans</c>: the plan catalog ("plans as code"), read only.</summary>
public static class PlansApi
{
    public static RouteGroupBuilder MapPlansApi(this RouteGroupBuilder api)
    {
        api.MapGet("/plans", ListPlans)
            .WithName(nameof(ListPlans))
            .WithSummary("List the plan catalog")
            .RequireAuthorization(ControlPlanePolicies.AnyRole);
        return api;
    }

    public static Ok<List<PlanView>> ListPlans(PlanCatalog plans) => TypedResults.Ok(plans.All.Select(PlanView.Of).ToList());
}
