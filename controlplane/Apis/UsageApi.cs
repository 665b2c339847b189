using System.Security.Claims;
using Gateway.ControlPlane.Contracts;
using Gateway.ControlPlane.Http;
using Gateway.ControlPlane.Security;
using Gateway.Core.Usage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Gateway.ControlPlane.Apis;

/// <summary><c>/admin/v1/usage</c>: a customer's calls over a period, exact (counted but unflushed calls included).</summary>
public static class UsageApi
{
    public static RouteGroupBuilder MapUsageApi(this RouteGroupBuilder api)
    {
        api.MapGet("/usage", GetUsage)
            .WithName(nameof(GetUsage))
            .WithSummary("Usage of a customer (or one of its keys) by hour or day")
            .RequireAuthorization(ControlPlanePolicies.AnyRole)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    public static async Task<Results<Ok<UsageReport>, ProblemHttpResult>> GetUsage([AsParameters] UsageQuery query, ClaimsPrincipal user, UsageReporter reporter, TimeProvider time, CancellationToken cancellationToken)
    {
        if (KeysApi.Hidden(user, query.CustomerId) is { } hidden)
        {
            return ProblemResults.From(hidden);
        }

        var parsed = query.Parse(time.GetUtcNow());
        if (!parsed.Succeeded)
        {
            return ProblemResults.From(parsed.Problem!);
        }

        var q = parsed.Value!;
        var report = await reporter.ReportAsync(q.CustomerId, q.KeyId, q.From, q.To, q.Granularity, cancellationToken);
        return report.Succeeded ? TypedResults.Ok(report.Value!) : ProblemResults.From(report.Problem!);
    }
}
