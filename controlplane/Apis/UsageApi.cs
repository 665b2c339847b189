using Gateway.ControlPlane.Contracts;
using Gateway.ControlPlane.Http;
using Gateway.ControlPlane.OpenApi;
using Gateway.ControlPlane.Security;
using Gateway.Core.Usage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Gateway.ControlPlane.Apis;

/// <summary>
/// <c>/admin/v1/usage</c>: a customer's calls over a period, exact (counted but unflushed calls included), as JSON or,
/// with <c>Accept: text/csv</c>, as CSV with a header row.
/// </summary>
public static class UsageApi
{
    public static RouteGroupBuilder MapUsageApi(this RouteGroupBuilder api)
    {
        api.MapGet("/usage", GetUsage)
            .WithName(nameof(GetUsage))
            .WithSummary("Usage of a customer (or one of its keys, or one route group) by hour, day or month; JSON, or CSV with 'Accept: text/csv'")
            .RequireAuthorization(ControlPlanePolicies.AnyRole)
            .AlsoAnswersCsv()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    public static async Task<Results<Ok<UsageReport>, FileContentHttpResult, ProblemHttpResult>> GetUsage([AsParameters] UsageQuery query, HttpRequest request, UsageReporter reporter, TimeProvider time, CancellationToken cancellationToken)
    {
        if (KeysApi.Hidden(request.HttpContext.User, query.CustomerId) is { } hidden)
        {
            return ProblemResults.From(hidden);
        }

        var parsed = query.Parse(time.GetUtcNow());
        if (!parsed.Succeeded)
        {
            return ProblemResults.From(parsed.Problem!);
        }

        var q = parsed.Value!;
        var report = await reporter.ReportAsync(q.CustomerId, q.KeyId, q.RouteGroup, q.From, q.To, q.Granularity, cancellationToken);
        if (!report.Succeeded)
        {
            return ProblemResults.From(report.Problem!);
        }

        return UsageCsv.IsWanted(request)
            ? TypedResults.File(UsageCsv.Write(report.Value!), UsageCsv.ContentType, UsageCsv.FileName(report.Value!))
            : TypedResults.Ok(report.Value!);
    }
}
