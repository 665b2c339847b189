using System.Globalization;
using Gateway.Billing.Invoices;
using Gateway.Compliance;
using Gateway.ControlPlane.Apis;
using Gateway.ControlPlane.Audit;
using Gateway.Core.Customers;
using Gateway.Core.Keys;
using Gateway.Core.Plans;
using Gateway.Core.Problems;
using Gateway.Core.Usage;

namespace Gateway.ControlPlane.Compliance;

/// <summary>
/// What compliance staff hand over in a dispute: one customer's month, with every key's usage by route group and day,
/// its quota consumption, the licence terms in force, the evidence the gateway collected, and the flags raised with
/// the decisions taken on them.
/// </summary>
public sealed record ComplianceReport(
    ReportCustomer Customer,
    string Period,
    DateTimeOffset From,
    DateTimeOffset To,
    DateTimeOffset GeneratedAt,
    ReportTotals Totals,
    IReadOnlyList<KeyReport> Keys,
    IReadOnlyList<DailyUsage> Daily,
    IReadOnlyList<FlagReport> Flags);

public sealed record ReportCustomer(string Id, string Name, string Email);

/// <summary>
/// Calls over the period: billable (the quota's and the invoice's: upstream answers in the key's plan's billable set),
/// refused by the gateway, failed upstream, abandoned, and upstream answers the plan does not bill (5xx, 429 by default).
/// </summary>
public sealed record ReportTotals(long Billable, long Rejected, long GatewayErrors, long ClientAborted, long UpstreamNotBilled);

/// <summary>
/// One key over the period: its state now, its calls, its quota consumption (billable calls against the plan's
/// included calls, summed over the period's one month), the licence versions in force at any time in the period, and
/// its evidence (null when the gateway recorded none).
/// </summary>
public sealed record KeyReport(
    string KeyId,
    string? Name,
    string DisplayPrefix,
    string Plan,
    string Status,
    ReportTotals Calls,
    QuotaConsumption Quota,
    IReadOnlyList<KeyLicence> Licences,
    EvidenceSummary? Evidence);

/// <summary>Billable calls against the plan's included calls; <see cref="OverQuota"/> is what the plan does past them.</summary>
public sealed record QuotaConsumption(long Included, long Used, string OverQuota);

/// <summary>
/// The gateway's evidence for a key over the period: calls and refused attempts, hours and days with any request,
/// the most client networks and user agents seen in one hour, and the distinct ones over the period (hashes; a
/// "saturated" figure is a lower bound: the gateway keeps at most <c>Gateway:Compliance:DistinctCap</c> per hour), and
/// the records delivered with the distinct records among them over the month (the hours' HyperLogLog sketches merged;
/// ±1.6 %; 0 on routes without a record-id path).
/// </summary>
public sealed record EvidenceSummary(
    long Calls,
    long UnlicensedRouteAttempts,
    long AttemptsAfterRevocation,
    long QuotaRefusals,
    int HoursActive,
    int DaysActive,
    int MostNetworksInAnHour,
    int DistinctNetworks,
    int MostUserAgentsInAnHour,
    int DistinctUserAgents,
    bool Saturated,
    long RecordsDelivered,
    long DistinctRecords);

/// <summary>Calls of one key to one route group on one UTC day, by outcome (<c>2xx</c> … and the refusal reasons).</summary>
public sealed record DailyUsage(DateOnly Day, string KeyId, string RouteGroup, string StatusClass, long Count);

/// <summary>A flag whose window overlaps the period, with the review decisions recorded in the audit log.</summary>
public sealed record FlagReport(ComplianceFlag Flag, IReadOnlyList<AuditEntry> Decisions);

/// <summary>
/// Builds <see cref="ComplianceReport"/>s from the usage ledger (exact, unflushed calls included), the key store, the
/// licence versions, the evidence table, the flags and the audit log. Read-only: building a report changes nothing.
/// </summary>
public sealed class ComplianceReports(
    ICustomerStore customers,
    IApiKeyStore keys,
    PlanCatalog plans,
    UsageReporter usage,
    KeyLicences licences,
    EvidenceTable evidence,
    FlagTable flags,
    AuditLog audit,
    TimeProvider time)
{
    /// <summary>How long after a period's end review decisions on its flags are looked for in the audit log.</summary>
    public static readonly TimeSpan DecisionsWindow = TimeSpan.FromDays(92);

    /// <summary>The most flags one report lists (the oldest first).</summary>
    public const int MaxFlags = 1000;

    public async Task<Outcome<ComplianceReport>> BuildAsync(string customerId, string? period, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var parsed = BillingPeriod.Parse(period, now);
        if (!parsed.Succeeded)
        {
            return parsed.Problem!;
        }

        if (await customers.FindAsync(customerId, cancellationToken) is not { } customer)
        {
            return ApiProblem.NotFound("Customer", customerId);
        }

        var month = parsed.Value;
        var counts = await usage.CountsAsync(customerId, month.FromHour, month.ToHour, cancellationToken);
        var daily = new Dictionary<(int Day, string KeyId, string RouteGroup, CallOutcome Outcome), long>();
        foreach (var ((cell, _), count) in counts)
        {
            var key = (cell.Hour / 24, cell.KeyId, cell.RouteGroup, cell.Outcome);
            daily[key] = daily.GetValueOrDefault(key) + count;
        }

        var allKeys = await keys.ListByCustomerAsync(customerId, cancellationToken);
        var billable = BillableCalls.Of(allKeys, plans);
        var customerKeys = allKeys
            .Where(k => k.CreatedAt < month.End)
            .OrderBy(k => k.CreatedAt).ThenBy(k => k.Id, StringComparer.Ordinal)
            .ToList();
        // Evidence hours count from 0001-01-01 (UTC ticks / ticks per hour), not from the Unix epoch as the ledger's do.
        var (evidenceFrom, evidenceTo) = (month.Start.UtcTicks / TimeSpan.TicksPerHour, month.End.UtcTicks / TimeSpan.TicksPerHour);
        var evidenceByKey = (await evidence.ReadAsync(evidenceFrom, cancellationToken))
            .Where(e => e.CustomerId == customerId)
            .ToDictionary(e => e.KeyId, e => e.Hours.Where(h => h.Hour < evidenceTo).ToList(), StringComparer.Ordinal);

        var keyReports = new List<KeyReport>(customerKeys.Count);
        foreach (var key in customerKeys)
        {
            var calls = Totals(billable, daily.Where(d => d.Key.KeyId == key.Id).Select(d => (d.Key.KeyId, d.Key.Outcome, d.Value)));
            var included = plans.TryGet(key.Plan, out var plan) ? plan.MonthlyQuota : 0;
            var overQuota = plan?.OverQuota.ToString() ?? "unknown";
            var history = await licences.HistoryAsync(key.Id, cancellationToken);
            keyReports.Add(new KeyReport(
                key.Id,
                key.Name,
                key.DisplayPrefix,
                key.Plan,
                key.Status.ToString().ToLowerInvariant(),
                calls,
                new QuotaConsumption(included, calls.Billable, overQuota),
                InForce(history, month),
                evidenceByKey.TryGetValue(key.Id, out var hours) && hours.Count > 0 ? Summarize(hours) : null));
        }

        var flagged = await FlagsAsync(customerId, month, now, cancellationToken);
        return new ComplianceReport(
            new ReportCustomer(customer.Id, customer.Name, customer.Email),
            month.ToString(),
            month.Start,
            month.End,
            now,
            Totals(billable, daily.Select(d => (d.Key.KeyId, d.Key.Outcome, d.Value))),
            keyReports,
            [.. daily
                .OrderBy(d => d.Key.Day).ThenBy(d => d.Key.KeyId, StringComparer.Ordinal).ThenBy(d => d.Key.RouteGroup, StringComparer.Ordinal).ThenBy(d => d.Key.Outcome)
                .Select(d => new DailyUsage(DateOnly.FromDateTime(UsageCalendar.HourStart(d.Key.Day * 24).UtcDateTime), d.Key.KeyId, d.Key.RouteGroup, d.Key.Outcome.Name(), d.Value))],
            flagged);
    }

    private static ReportTotals Totals(BillableCalls billed, IEnumerable<(string KeyId, CallOutcome Outcome, long Count)> counts)
    {
        var tally = new UsageTally(billed);
        foreach (var (keyId, outcome, count) in counts)
        {
            tally.Add(keyId, outcome, count);
        }

        return new ReportTotals(tally.Total, tally.Rejected, tally.GatewayErrors, tally.ClientAborted, tally.UpstreamNotBilled);
    }

    /// <summary>The versions in force at some time in the month: each from its <c>Since</c> until the next version's.</summary>
    private static List<KeyLicence> InForce(IReadOnlyList<KeyLicence> history, BillingPeriod month)
    {
        var ordered = history.OrderBy(l => l.Version).ToList();
        return [.. ordered.Where((licence, i) => licence.Since < month.End && (i + 1 == ordered.Count || ordered[i + 1].Since > month.Start))];
    }

    private static EvidenceSummary Summarize(List<HourEvidence> hours)
    {
        var active = hours.Where(h => h.Active).ToList();
        return new EvidenceSummary(
            hours.Sum(h => h.Calls),
            hours.Sum(h => h.UnlicensedRoute),
            hours.Sum(h => h.AfterRevocation),
            hours.Sum(h => h.QuotaRefusals),
            active.Count,
            active.Select(h => h.Hour / 24).Distinct().Count(),
            hours.Max(h => h.Networks.Count),
            hours.SelectMany(h => h.Networks).Distinct().Count(),
            hours.Max(h => h.UserAgents.Count),
            hours.SelectMany(h => h.UserAgents).Distinct().Count(),
            hours.Any(h => h.NetworksSaturated || h.UserAgentsSaturated),
            hours.Sum(h => h.Records),
            DistinctRecords(hours));
    }

    private static long DistinctRecords(List<HourEvidence> hours)
    {
        var month = new RecordSketch();
        foreach (var hour in hours)
        {
            if (hour.DistinctRecords is { } sketch)
            {
                month.Merge(sketch);
            }
        }

        return month.Estimate();
    }

    /// <summary>The customer's flags whose window overlaps the month, each with its review decisions.</summary>
    private async Task<List<FlagReport>> FlagsAsync(string customerId, BillingPeriod month, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var overlapping = new List<ComplianceFlag>();
        string? next = null;
        do
        {
            var (items, token) = await flags.ListAsync(customerId, null, null, null, 1000, next, cancellationToken);
            overlapping.AddRange(items.Where(f => f.From < month.End && f.To > month.Start));
            next = token;
        }
        while (next is not null && overlapping.Count < MaxFlags);

        if (overlapping.Count == 0)
        {
            return [];
        }

        // Decisions are audit entries of the review action whose target is the flag, from the month's start until
        // DecisionsWindow after its end (or now), read in spans the audit log accepts.
        var ids = overlapping.Select(f => f.Id).ToHashSet(StringComparer.Ordinal);
        var decisions = new Dictionary<string, List<AuditEntry>>(StringComparer.Ordinal);
        var end = Min(now.AddTicks(1), month.End + DecisionsWindow);
        for (var from = month.Start; from < end; from += AuditLog.MaxPeriod)
        {
            var to = Min(end, from + AuditLog.MaxPeriod);
            string? after = null;
            do
            {
                var page = await audit.ReadPageAsync(from, to, new AuditFilter(null, null, ComplianceApi.ReviewAction), after, AuditLog.MaxPageSize, cancellationToken);
                foreach (var entry in page.Items.Where(e => ids.Contains(e.Target)))
                {
                    (decisions.TryGetValue(entry.Target, out var list) ? list : decisions[entry.Target] = []).Add(entry);
                }

                after = page.ContinuationToken;
            }
            while (after is not null);
        }

        return [.. overlapping.OrderBy(f => f.From).ThenBy(f => f.Id, StringComparer.Ordinal)
            .Take(MaxFlags)
            .Select(f => new FlagReport(f, decisions.TryGetValue(f.Id, out var list) ? list : []))];
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    /// <summary>The download name of a report's CSV table, e.g. <c>compliance-cus_…-2026-11-usage.csv</c>.</summary>
    public static string FileName(ComplianceReport report, string table) =>
        string.Create(CultureInfo.InvariantCulture, $"compliance-{report.Customer.Id}-{report.Period}-{table}.csv");
}
