using Gateway.Core.Customers;
using Gateway.Core.Keys;
using Gateway.Core.Plans;
using Gateway.Core.Problems;
using Gateway.Core.Validation;

namespace Gateway.Core.Usage;

/// <summary>Usage a gateway process has counted but perhaps not yet written; reports add it so they are exact at once.</summary>
public interface IUnflushedUsage
{
    /// <summary>The writer id of this process's usage rows.</summary>
    string Writer { get; }

    /// <summary>This process's cumulative counts for a customer's cells in [fromHour, toHour).</summary>
    IEnumerable<UsageCount> Counts(string customerId, int fromHour, int toHour);
}

/// <summary>The buckets of a report: UTC hours, UTC days or UTC calendar months.</summary>
public enum UsageGranularity
{
    Hour,
    Day,
    Month,
}

public sealed record UsageBucket(DateTimeOffset Start, string RouteGroup, string StatusClass, long Count);

/// <summary>
/// Calls in a period. <c>Total</c> (= <c>Billable</c>) counts billable calls: upstream answers in the billable set of
/// the key's plan (<see cref="BillableCalls"/>). <c>NotBillable</c> counts every other call, split into upstream
/// answers outside the plan's set (<c>UpstreamNotBilled</c>: 5xx and 429 by default), gateway refusals
/// (<c>Rejected</c>), calls the upstream never answered (<c>GatewayErrors</c>) and calls the caller left before the
/// answer (<c>ClientAborted</c>).
/// </summary>
public sealed record UsageReport(
    string CustomerId,
    string? KeyId,
    string? RouteGroup,
    DateTimeOffset From,
    DateTimeOffset To,
    string Granularity,
    long Total,
    long Rejected,
    long GatewayErrors,
    long ClientAborted,
    IReadOnlyList<UsageBucket> Buckets,
    long UpstreamNotBilled)
{
    public long Billable => Total;

    public long NotBillable => UpstreamNotBilled + Rejected + GatewayErrors + ClientAborted;
}

/// <summary>
/// One customer's totals in a period: the four numbers of a <see cref="UsageReport"/> over all its keys and route
/// groups, without buckets (the usage overview of <c>GET /admin/v1/usage/customers</c>).
/// </summary>
public sealed record UsageTotals(string CustomerId, long Total, long Rejected, long GatewayErrors, long ClientAborted);

/// <summary>Builds usage reports from the usage table plus what this process has not flushed yet.</summary>
public sealed class UsageReporter(UsageTable table, ICustomerStore customers, IApiKeyStore keys, PlanCatalog plans, IEnumerable<IUnflushedUsage> unflushed)
{
    /// <summary>The longest period one report may span.</summary>
    public static readonly TimeSpan MaxPeriod = TimeSpan.FromDays(366);

    /// <summary>The earliest start a report accepts: long before any gateway counted a call.</summary>
    public static readonly DateTimeOffset EarliestFrom = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The latest end a report accepts, so month arithmetic never passes the calendar's year 9999.</summary>
    public static readonly DateTimeOffset LatestTo = new(9999, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The longest route-group filter accepted (route groups are short names from the routes' metadata).</summary>
    public const int MaxRouteGroupLength = 100;

    /// <summary>
    /// A customer's usage in [from, to), optionally only one key's and/or one route group's (an unknown route group
    /// matches nothing: groups of the past stay reportable). Buckets start at the UTC hour, day or month the calls
    /// fell in; the first and last hold only the part of their bucket inside the period.
    /// </summary>
    public async Task<Outcome<UsageReport>> ReportAsync(
        string customerId,
        string? keyId,
        string? routeGroup,
        DateTimeOffset from,
        DateTimeOffset to,
        UsageGranularity granularity,
        CancellationToken cancellationToken)
    {
        if ((InputRules.CustomerId("customerId", customerId) ?? InputRules.OptionalKeyId("keyId", keyId) ?? CheckRouteGroup(routeGroup) ?? CheckPeriod(from, to)) is { } invalid)
        {
            return invalid;
        }

        if (await customers.FindAsync(customerId, cancellationToken) is null)
        {
            return ApiProblem.NotFound("Customer", customerId);
        }

        var counts = await CountsAsync(customerId, UsageCalendar.HourOf(from), UsageCalendar.HourOf(to.AddTicks(-1)) + 1, cancellationToken);
        var billable = await BillableCalls.OfCustomerAsync(keys, plans, customerId, cancellationToken);
        var buckets = new Dictionary<(int Start, string RouteGroup, CallOutcome Outcome), long>();
        var tally = new UsageTally(billable);
        foreach (var ((cell, _), count) in counts)
        {
            if (keyId is not null && cell.KeyId != keyId || routeGroup is not null && cell.RouteGroup != routeGroup)
            {
                continue;
            }

            var start = granularity switch
            {
                UsageGranularity.Day => cell.Hour - (cell.Hour % 24),
                UsageGranularity.Month => UsageCalendar.HourOf(UsageCalendar.MonthStart(UsageCalendar.MonthOfHour(cell.Hour))),
                _ => cell.Hour,
            };
            var bucket = (start, cell.RouteGroup, cell.Outcome);
            buckets[bucket] = buckets.GetValueOrDefault(bucket) + count;
            tally.Add(cell.KeyId, cell.Outcome, count);
        }

        var ordered = buckets
            .OrderBy(b => b.Key.Start).ThenBy(b => b.Key.RouteGroup, StringComparer.Ordinal).ThenBy(b => b.Key.Outcome)
            .Select(b => new UsageBucket(UsageCalendar.HourStart(b.Key.Start), b.Key.RouteGroup, b.Key.Outcome.Name(), b.Value))
            .ToList();
        return new UsageReport(customerId, keyId, routeGroup, from, to, granularity.ToString().ToLowerInvariant(), tally.Total, tally.Rejected, tally.GatewayErrors, tally.ClientAborted, ordered, tally.UpstreamNotBilled);
    }

    /// <summary>How many customers' counts <see cref="TotalsAsync"/> reads at once.</summary>
    public const int TotalsParallelism = 8;

    /// <summary>
    /// The totals of each customer in [from, to), in the order given, exact like <see cref="ReportAsync"/> (the same
    /// cells, counted the same way). The customers are the caller's (a page it listed): unknown ids total zero.
    /// </summary>
    public async Task<Outcome<IReadOnlyList<UsageTotals>>> TotalsAsync(IReadOnlyList<string> customerIds, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        if (CheckPeriod(from, to) is { } invalid)
        {
            return invalid;
        }

        int fromHour = UsageCalendar.HourOf(from), toHour = UsageCalendar.HourOf(to.AddTicks(-1)) + 1;
        var totals = new UsageTotals[customerIds.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, customerIds.Count),
            new ParallelOptions { MaxDegreeOfParallelism = TotalsParallelism, CancellationToken = cancellationToken },
            async (i, token) =>
            {
                var tally = new UsageTally(await BillableCalls.OfCustomerAsync(keys, plans, customerIds[i], token));
                foreach (var ((cell, _), count) in await CountsAsync(customerIds[i], fromHour, toHour, token))
                {
                    tally.Add(cell.KeyId, cell.Outcome, count);
                }

                totals[i] = new UsageTotals(customerIds[i], tally.Total, tally.Rejected, tally.GatewayErrors, tally.ClientAborted);
            });
        return totals;
    }


    /// <summary>
    /// A customer's calls per cell in hours [fromHour, toHour), exact: the latest cumulative count per cell and writer,
    /// rows from storage overlaid by this process's memory (never smaller: a flush only ever moves a row up to memory).
    /// </summary>
    public async Task<IReadOnlyDictionary<(UsageCell Cell, string Writer), long>> CountsAsync(string customerId, int fromHour, int toHour, CancellationToken cancellationToken)
    {
        var counts = new Dictionary<(UsageCell, string), long>();
        await foreach (var count in table.ReadHoursAsync(customerId, fromHour, toHour, cancellationToken))
        {
            counts[(count.Cell, count.Writer)] = count.Count;
        }

        foreach (var source in unflushed)
        {
            foreach (var count in source.Counts(customerId, fromHour, toHour))
            {
                counts[(count.Cell, count.Writer)] = Math.Max(count.Count, counts.GetValueOrDefault((count.Cell, count.Writer)));
            }
        }

        return counts;
    }

    /// <summary>An optional route group: absent, or a name of at most <see cref="MaxRouteGroupLength"/> characters without control characters.</summary>
    private static ApiProblem? CheckRouteGroup(string? routeGroup) =>
        routeGroup is null ? null
        : routeGroup.Length > MaxRouteGroupLength || InputRules.Name("routeGroup", routeGroup) is not null || routeGroup.Trim() != routeGroup
            ? ApiProblem.Invalid("routeGroup", $"must be a route group name of at most {MaxRouteGroupLength} characters, without spaces at either end or control characters.")
            : null;

    /// <summary>[from, to) must lie within [<see cref="EarliestFrom"/>, <see cref="LatestTo"/>], be non-empty and span at most <see cref="MaxPeriod"/>.</summary>
    private static ApiProblem? CheckPeriod(DateTimeOffset from, DateTimeOffset to) =>
        from < EarliestFrom || from >= LatestTo ? ApiProblem.Invalid("from", $"must be from {EarliestFrom:yyyy-MM-dd} and before {LatestTo:yyyy-MM-dd}.")
        : to > LatestTo ? ApiProblem.Invalid("to", $"must be at most {LatestTo:yyyy-MM-dd}.")
        : to <= from ? ApiProblem.Invalid("to", "must be later than 'from'.")
        : to - from > MaxPeriod ? ApiProblem.Invalid("to", $"the period may span at most {MaxPeriod.TotalDays} days.")
        : null;
}
