using Gateway.ControlPlane.Contracts;
using Gateway.ControlPlane.Http;
using Gateway.ControlPlane.OpenApi;
using Gateway.ControlPlane.Security;
using Gateway.Core.Customers;
using Gateway.Core.Usage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Gateway.ControlPlane.Apis;

/// <summary>
/// <c>/admin/v1/usage</c>: a customer's calls over a period, exact (counted but unflushed calls included), as JSON or,
/// with <c>Accept: text/csv</c>, as CSV with a header row; <c>/admin/v1/usage/customers</c>: every customer's totals
/// of a period in one answer, a page at a time.
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
        api.MapGet("/usage/customers", GetCustomerUsage)
            .WithName(nameof(GetCustomerUsage))
            .WithSummary("Usage overview: a page of customers with their billable, rejected, upstream-error and aborted calls in a period, in one answer")
            .RequireAuthorization(ControlPlanePolicies.Review)
            .ProducesProblem(StatusCodes.Status400BadRequest);
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

    /// <summary>
    /// A page of customers (as <c>GET /admin/v1/customers</c> lists them) with each one's totals in the period, exact
    /// like <see cref="GetUsage"/>: the portal's usage overview in one request instead of one per customer.
    /// </summary>
    public static async Task<Results<Ok<CustomerUsagePage>, ProblemHttpResult>> GetCustomerUsage([AsParameters] CustomerUsageQuery query, CustomerService customers, UsageReporter reporter, TimeProvider time, CancellationToken cancellationToken)
    {
        var period = UsageQuery.ParsePeriod(query.From, query.To, time.GetUtcNow());
        if (!period.Succeeded)
        {
            return ProblemResults.From(period.Problem!);
        }

        var page = await customers.ListAsync(query.Search, query.ContinuationToken, query.Limit, cancellationToken);
        if (!page.Succeeded)
        {
            return ProblemResults.From(page.Problem!);
        }

        var (from, to) = period.Value;
        var listed = page.Value!.Items;
        var totals = await reporter.TotalsAsync(listed.Select(c => c.Id).ToList(), from, to, cancellationToken);
        if (!totals.Succeeded)
        {
            return ProblemResults.From(totals.Problem!);
        }

        var items = listed.Zip(totals.Value!, (c, t) => new CustomerUsage(c.Id, c.Name, t.Total, t.Rejected, t.GatewayErrors, t.ClientAborted)).ToList();
        return TypedResults.Ok(new CustomerUsagePage(from, to, items, page.Value.ContinuationToken));
    }
}
