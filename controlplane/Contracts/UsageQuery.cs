using System.Globalization;
using Gateway.Core.Problems;
using Gateway.Core.Usage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Gateway.ControlPlane.Contracts;

/// <summary>
/// The query of <c>GET /admin/v1/usage</c> as sent: strings, so that binding never fails and every mistake becomes a
/// problem naming its field (<see cref="Parse"/>).
/// </summary>
public sealed record UsageQuery(
    [FromQuery(Name = "customerId")] string? CustomerId,
    [FromQuery(Name = "keyId")] string? KeyId,
    [FromQuery(Name = "routeGroup")] string? RouteGroup,
    [FromQuery(Name = "from")] string? From,
    [FromQuery(Name = "to")] string? To,
    [FromQuery(Name = "granularity")] string? Granularity)
{
    /// <summary>The same query read from a request's query string (the function app binds nothing itself).</summary>
    public static UsageQuery Of(IQueryCollection query) =>
        new(query["customerId"], query["keyId"], query["routeGroup"], query["from"], query["to"], query["granularity"]);

    /// <summary>Defaults: from the start of the current UTC month to now (rounded up to the hour), hourly.</summary>
    public Outcome<UsagePeriod> Parse(DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(CustomerId))
        {
            return ApiProblem.Invalid("customerId", "is required.");
        }

        var keyId = string.IsNullOrEmpty(KeyId) ? null : KeyId;
        var routeGroup = string.IsNullOrEmpty(RouteGroup) ? null : RouteGroup;
        var period = ParsePeriod(From, To, now);
        if (!period.Succeeded)
        {
            return period.Problem!;
        }

        var (from, to) = period.Value;
        var granularity = UsageGranularity.Hour;
        if (Granularity is not null && !Enum.TryParse(Granularity, ignoreCase: true, out granularity) || !Enum.IsDefined(granularity) || int.TryParse(Granularity, out _))
        {
            return ApiProblem.Invalid("granularity", "must be 'hour', 'day' or 'month'.");
        }

        return new UsagePeriod(CustomerId, keyId, routeGroup, from, to, granularity);
    }

    /// <summary>
    /// <c>from</c> and <c>to</c> as sent (ISO 8601 UTC date or date-time); defaults: the start of the current UTC month
    /// and now rounded up to the hour. Whether the period is allowed is the reporter's rule.
    /// </summary>
    public static Outcome<(DateTimeOffset From, DateTimeOffset To)> ParsePeriod(string? fromText, string? toText, DateTimeOffset now)
    {
        var from = UsageCalendar.MonthStart(UsageCalendar.MonthOf(now));
        var to = UsageCalendar.HourStart(UsageCalendar.HourOf(now) + 1);
        if (fromText is not null && !TryParseTime(fromText, out from))
        {
            return ApiProblem.Invalid("from", "must be an ISO 8601 date or date-time, e.g. 2026-11-01 or 2026-11-01T13:00:00Z.");
        }

        if (toText is not null && !TryParseTime(toText, out to))
        {
            return ApiProblem.Invalid("to", "must be an ISO 8601 date or date-time, e.g. 2026-12-01 or 2026-11-30T23:00:00Z.");
        }

        return (from, to);
    }

    private static bool TryParseTime(string text, out DateTimeOffset value) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);
}

/// <summary>A usage query once parsed: whose usage, over which period, in which buckets.</summary>
public sealed record UsagePeriod(string CustomerId, string? KeyId, string? RouteGroup, DateTimeOffset From, DateTimeOffset To, UsageGranularity Granularity);

/// <summary>
/// The query of <c>GET /admin/v1/usage/customers</c> as sent: a page of customers (<c>search</c>, <c>limit</c>,
/// <c>continuationToken</c> as in <c>GET /admin/v1/customers</c>) and the period (<c>from</c>, <c>to</c> as in
/// <c>GET /admin/v1/usage</c>).
/// </summary>
public sealed record CustomerUsageQuery(
    [FromQuery(Name = "search")] string? Search,
    [FromQuery(Name = "from")] string? From,
    [FromQuery(Name = "to")] string? To,
    [FromQuery(Name = "limit")] string? Limit,
    [FromQuery(Name = "continuationToken")] string? ContinuationToken)
{
    public static CustomerUsageQuery Of(IQueryCollection query) =>
        new(query["search"], query["from"], query["to"], query["limit"], query["continuationToken"]);
}

/// <summary>One customer's line of the usage overview: who, and its totals in the period (billable, rejected, ...).</summary>
public sealed record CustomerUsage(string CustomerId, string Name, long Total, long Rejected, long GatewayErrors, long ClientAborted);

/// <summary>
/// The answer of <c>GET /admin/v1/usage/customers</c>: a page of customers in id order with their totals in
/// [<c>from</c>, <c>to</c>); <c>continuationToken</c> asks for the next page (null: the last).
/// </summary>
public sealed record CustomerUsagePage(DateTimeOffset From, DateTimeOffset To, IReadOnlyList<CustomerUsage> Items, string? ContinuationToken);
