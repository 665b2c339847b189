using Gateway.Compliance;
using Gateway.Core.Usage;
using Gateway.Proxy.Keys;
using Gateway.Proxy.Problems;
using Gateway.Proxy.Quotas;
using Gateway.Proxy.Proxying;

namespace Gateway.Proxy.Developer;

/// <summary>
/// A developer's view of its key: plan, this month's usage, and the rate limit. Never counted as a call.
/// <c>Used</c> is the quota's count; <c>Billable</c> and <c>NotBillable</c> are the key's calls this month from the
/// usage ledger, split by the plan's billable set (<c>BillableOutcomes</c>): the same set, so <c>Billable</c> equals
/// <c>Used</c> once calls in flight have finished.
/// </summary>
public sealed record DeveloperUsage(
    string KeyId,
    string Plan,
    DateTimeOffset PeriodStart,
    DateTimeOffset PeriodEnd,
    long Used,
    long Included,
    long Remaining,
    long Overage,
    string OverQuota,
    DeveloperRateLimit RateLimit,
    IReadOnlyList<string> RouteGroups,
    DeveloperLicence? Licence,
    IReadOnlyList<string> BillableOutcomes,
    long Billable,
    long NotBillable);

/// <summary>
/// The licence the key is held under: the purpose declared at issuance and the terms stored with the key (version 1
/// at issuance, a new version when its terms changed). A key issued before licences were stored shows its plan's
/// terms as version 0 and no purpose.
/// </summary>
public sealed record DeveloperLicence(int Version, DateTimeOffset? Since, string? Purpose, LicenceTerms Terms);

public sealed record DeveloperRateLimit(double RequestsPerSecond, int Burst, int Remaining, int ResetSeconds);

public static class DeveloperUsageApi
{
    public const string Path = "/_gateway/usage";

    /// <summary><c>GET /_gateway/usage</c> on the data port, authenticated with the caller's own key.</summary>
    public static void MapDeveloperUsage(this WebApplication app) => app.MapGet(Path, async (HttpContext context, ApiKeyVerifier verifier, QuotaLedger ledger, KeyLicences licences, LicenceCatalog catalog, UsageReporter reporter, TimeProvider time) =>
    {
        var verification = await verifier.VerifyAsync(context);
        if (verification.RefusesKey(out var refusal))
        {
            // A suspended key may still see its usage: only a refusal of the key itself stops it.
            await DataPlaneProblems.WriteAsync(context, refusal, verification.RetryAfterSeconds);
            return;
        }

        var caller = verification.Caller!;

        // Storage reads (the licence, the month's usage rows): this endpoint is never a counted call, so it is off the proxied hot path.
        var stored = await licences.CurrentAsync(caller.KeyId, context.RequestAborted);
        var licence = stored is not null
            ? new DeveloperLicence(stored.Version, stored.Since, stored.Purpose, stored.Terms)
            : catalog.TryGetTerms(caller.Plan.Name, out var planTerms) ? new DeveloperLicence(0, null, null, planTerms) : null;
        var now = time.GetUtcNow();
        var month = UsageCalendar.MonthOf(now);
        var used = caller.QuotaPeriod(ledger, month).Used;
        var plan = caller.Plan;
        var calls = await reporter.ReportAsync(caller.CustomerId, caller.KeyId, null, UsageCalendar.MonthStart(month), UsageCalendar.MonthEnd(month), UsageGranularity.Month, context.RequestAborted);
        var rate = caller.RateLimit.Peek(time.GetTimestamp());
        AdmissionMiddleware.WriteRateLimitHeaders(context.Response.Headers, caller.RateLimit, rate);
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.WriteAsJsonAsync(new DeveloperUsage(
            caller.KeyId,
            plan.Name,
            UsageCalendar.MonthStart(month),
            UsageCalendar.MonthEnd(month),
            used,
            plan.MonthlyQuota,
            Math.Max(0, plan.MonthlyQuota - used),
            Math.Max(0, used - plan.MonthlyQuota),
            plan.OverQuota.ToString().ToLowerInvariant(),
            new DeveloperRateLimit(plan.RequestsPerSecond, plan.Burst, rate.Remaining, rate.SecondsUntilFull),
            [.. plan.RouteGroups.Order(StringComparer.Ordinal)],
            licence,
            plan.Billable.Names,
            calls.Value?.Billable ?? 0,
            calls.Value?.NotBillable ?? 0));
    });
}
