using System.Globalization;
using Gateway.Core.Keys;
using Gateway.Core.Plans;
using Gateway.Core.Usage;
using Microsoft.Extensions.Options;

namespace Gateway.Compliance;

/// <summary>
/// The detection job: reads the evidence of the last <see cref="ComplianceOptions.ScanWindow"/>, judges each key
/// against its licence (purpose and terms as stored with the key) and its plan's thresholds, and raises or grows one
/// flag per key and kind (<see cref="FlagTable"/>). Run by the gateway every <see cref="ComplianceOptions.ScanInterval"/>,
/// by the function app's timer, and on demand (<c>POST /admin/v1/compliance/scan</c>); any number may run at once.
/// No flag without evidence: each rule needs numbers over its threshold, and those numbers are the flag's evidence.
/// Evidence from before a closed (dismissed or confirmed) flag's end is not judged again for that kind.
/// <c>over_quota</c> on billing plans reads, besides the window's evidence, the key's billable calls this UTC month
/// from the usage ledger (<see cref="UsageReporter.CountsAsync"/>, judged by <see cref="BillableCalls"/>).
/// </summary>
public sealed class ComplianceScan(
    EvidenceTable evidence,
    FlagTable flags,
    KeyLicences licences,
    LicenceCatalog catalog,
    PlanCatalog plans,
    UsageReporter usage,
    IApiKeyStore keys,
    IEnumerable<IComplianceFlagPublisher> publishers,
    IOptions<ComplianceOptions> options,
    TimeProvider time)
{
    /// <summary>The function app's timer schedule (NCRONTAB with seconds): every five minutes, the default <see cref="ComplianceOptions.ScanInterval"/>.</summary>
    public const string Schedule = "0 */5 * * * *";

    /// <summary>Runs detection over the evidence so far; answers the flags it raised or grew.</summary>
    public async Task<IReadOnlyList<ComplianceFlag>> RunAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var nowHour = now.UtcTicks / TimeSpan.TicksPerHour;
        var windowHours = (long)Math.Ceiling(options.Value.ScanWindow.TotalHours);
        var changed = new List<ComplianceFlag>();
        // Ordering rule: this run's own cache (customer → each key's billable calls per hour this month), written and read
        // by this run alone, one key after another; concurrent runs each read the ledger themselves and never share it.
        var billedThisMonth = new Dictionary<string, IReadOnlyDictionary<string, SortedDictionary<int, long>>>(StringComparer.Ordinal);
        foreach (var key in await evidence.ReadAsync(nowHour - windowHours + 1, cancellationToken))
        {
            var licence = await licences.CurrentAsync(key.KeyId, cancellationToken);
            var terms = licence?.Terms ?? (catalog.TryGetTerms(key.Plan, out var planTerms) ? planTerms : null);
            if (terms is null)
            {
                continue;
            }

            var existing = await flags.ForKeyAsync(key.KeyId, cancellationToken);
            var plan = plans.TryGet(key.Plan, out var found) ? found : null;
            BilledMonth? billed = null;
            if (plan?.OverQuota == OverQuotaBehaviour.Bill)
            {
                if (!billedThisMonth.TryGetValue(key.CustomerId, out var byKey))
                {
                    billedThisMonth[key.CustomerId] = byKey = await BilledHoursAsync(key.CustomerId, now, cancellationToken);
                }

                billed = new BilledMonth(UsageCalendar.MonthOf(now), byKey.GetValueOrDefault(key.KeyId) ?? []);
            }

            var judged = new KeyJudgement(key, licence, terms, catalog.Thresholds(key.Plan), plan, nowHour, billed);
            foreach (var kind in FlagKinds.Detected)
            {
                // A closed flag settled the behaviour up to its end: only later hours can raise a new one.
                var closedUntil = existing.Where(f => f.Kind == kind && !FlagStatuses.IsOngoing(f.Status)).Select(f => f.To.UtcTicks / TimeSpan.TicksPerHour).DefaultIfEmpty(long.MinValue).Max();
                if (judged.Judge(kind, closedUntil) is { } candidate && await flags.RaiseOrGrowAsync(candidate, cancellationToken) is { } flag)
                {
                    changed.Add(flag);
                }
            }
        }

        foreach (var flag in changed)
        {
            foreach (var publisher in publishers)
            {
                await publisher.PublishAsync(flag, cancellationToken);
            }
        }

        return changed;
    }

    /// <summary>Each of the customer's keys' billable calls per ledger hour (Unix hours), from the start of the UTC month to now.</summary>
    private async Task<IReadOnlyDictionary<string, SortedDictionary<int, long>>> BilledHoursAsync(string customerId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var month = UsageCalendar.MonthOf(now);
        var counts = await usage.CountsAsync(customerId, UsageCalendar.HourOf(UsageCalendar.MonthStart(month)), UsageCalendar.HourOf(now) + 1, cancellationToken);
        var billable = await BillableCalls.OfCustomerAsync(keys, plans, customerId, cancellationToken);
        var byKey = new Dictionary<string, SortedDictionary<int, long>>(StringComparer.Ordinal);
        foreach (var ((cell, _), count) in counts)
        {
            if (billable.IsBilled(cell))
            {
                var hours = byKey.TryGetValue(cell.KeyId, out var known) ? known : byKey[cell.KeyId] = [];
                hours[cell.Hour] = hours.GetValueOrDefault(cell.Hour) + count;
            }
        }

        return byKey;
    }

    /// <summary>One key's billable calls in the UTC <paramref name="Month"/> so far, per ledger hour (Unix hours).</summary>
    private sealed record BilledMonth(int Month, SortedDictionary<int, long> Hours);

    /// <summary>One key's evidence against its licence and thresholds: one rule per kind.</summary>
    private sealed class KeyJudgement(KeyEvidence key, KeyLicence? licence, LicenceTerms terms, DetectionThresholds thresholds, Plan? plan, long nowHour, BilledMonth? billed)
    {
        public FlagCandidate? Judge(string kind, long closedUntil)
        {
            var hours = key.Hours.Where(h => h.Hour >= closedUntil).ToList();
            return hours.Count == 0 ? null : kind switch
            {
                FlagKinds.OverQuota => plan?.OverQuota == OverQuotaBehaviour.Bill ? OverQuotaBilled(closedUntil) : OverQuota(hours),
                FlagKinds.UnlicensedRoute => UnlicensedRoute(hours),
                FlagKinds.UseAfterRevocation => UseAfterRevocation(hours),
                FlagKinds.KeySharing => KeySharing(hours),
                FlagKinds.BulkHarvesting => BulkHarvesting(hours),
                _ => null,
            };
        }

        private FlagCandidate? OverQuota(List<HourEvidence> hours)
        {
            var refused = hours.Sum(h => h.QuotaRefusals);
            if (plan?.OverQuota != OverQuotaBehaviour.Block || refused < thresholds.CallsAfterExhaustion)
            {
                return null;
            }

            var active = hours.Where(h => h.QuotaRefusals > 0).ToList();
            return Candidate(
                FlagKinds.OverQuota,
                refused >= 10L * thresholds.CallsAfterExhaustion ? FlagSeverities.High : FlagSeverities.Medium,
                active,
                new() { ["callsAfterExhaustion"] = refused, ["threshold"] = thresholds.CallsAfterExhaustion, ["monthlyQuota"] = plan.MonthlyQuota, ["hours"] = active.Count },
                $"{refused} calls after the monthly quota of {plan.MonthlyQuota} was used up (plan '{plan.Name}' blocks), over {active.Count} hour(s); the threshold is {thresholds.CallsAfterExhaustion}.");
        }

        /// <summary>
        /// Billing plans: billable calls this UTC month beyond <see cref="DetectionThresholds.OverQuotaBillMultiple"/> times
        /// the included calls. The window runs from the hour the month's calls passed that line (or the end of a closed
        /// flag, <paramref name="fromHour"/>, if later) to the last hour with billable calls; none without billable calls
        /// since then. A plan that includes no calls has no multiple to exceed.
        /// </summary>
        private FlagCandidate? OverQuotaBilled(long fromHour)
        {
            if (billed is null || plan is null || plan.MonthlyQuota <= 0)
            {
                return null;
            }

            var multiple = thresholds.OverQuotaBillMultiple;
            var line = (long)Math.Floor(multiple * plan.MonthlyQuota);
            var calls = billed.Hours.Values.Sum();
            if (calls <= line)
            {
                return null;
            }

            // The hour the running total first passed the line, in evidence hours (from 0001-01-01, not the Unix epoch).
            long running = 0, crossedHour = 0;
            foreach (var (hour, count) in billed.Hours)
            {
                running += count;
                if (running > line)
                {
                    crossedHour = EvidenceHour(hour);
                    break;
                }
            }

            var lastHour = EvidenceHour(billed.Hours.Keys.Max());
            var from = Math.Max(crossedHour, fromHour);
            if (lastHour < from)
            {
                return null;
            }

            var month = UsageCalendar.MonthText(billed.Month);
            var multipleText = multiple.ToString("0.##", CultureInfo.InvariantCulture);
            return Candidate(
                FlagKinds.OverQuota,
                calls > 2 * line ? FlagSeverities.High : FlagSeverities.Medium,
                from,
                lastHour + 1,
                new()
                {
                    ["billableCalls"] = calls,
                    ["includedCalls"] = plan.MonthlyQuota,
                    ["multiplePercent"] = (long)Math.Round(multiple * 100),
                    ["threshold"] = line,
                    ["month"] = long.Parse(month, CultureInfo.InvariantCulture),
                },
                $"{calls} billable calls in {month[..4]}-{month[4..]} (UTC), {(double)calls / plan.MonthlyQuota:0.##} times the {plan.MonthlyQuota} calls included in plan '{plan.Name}' (billed as overage); the threshold is {multipleText} times, {line} calls.");
        }

        private static long EvidenceHour(int ledgerHour) => UsageCalendar.HourStart(ledgerHour).UtcTicks / TimeSpan.TicksPerHour;

        private FlagCandidate? UnlicensedRoute(List<HourEvidence> hours)
        {
            var attempts = hours.Sum(h => h.UnlicensedRoute);
            if (attempts < thresholds.UnlicensedRouteAttempts)
            {
                return null;
            }

            var active = hours.Where(h => h.UnlicensedRoute > 0).ToList();
            return Candidate(
                FlagKinds.UnlicensedRoute,
                attempts >= 10L * thresholds.UnlicensedRouteAttempts ? FlagSeverities.High : FlagSeverities.Medium,
                active,
                new() { ["attempts"] = attempts, ["threshold"] = thresholds.UnlicensedRouteAttempts, ["hours"] = active.Count },
                $"{attempts} calls to route groups outside the licence (licensed: {string.Join(", ", terms.RouteGroups)}) over {active.Count} hour(s); the threshold is {thresholds.UnlicensedRouteAttempts}.");
        }

        private FlagCandidate? UseAfterRevocation(List<HourEvidence> hours)
        {
            var attempts = hours.Sum(h => h.AfterRevocation);
            if (attempts < thresholds.AttemptsAfterRevocation)
            {
                return null;
            }

            var active = hours.Where(h => h.AfterRevocation > 0).ToList();
            var networks = active.SelectMany(h => h.Networks).Distinct().Count();
            return Candidate(
                FlagKinds.UseAfterRevocation,
                FlagSeverities.High,
                active,
                new() { ["attempts"] = attempts, ["threshold"] = thresholds.AttemptsAfterRevocation, ["networks"] = networks, ["hours"] = active.Count },
                $"{attempts} calls with the key after it was revoked or suspended, from {networks} network(s) over {active.Count} hour(s); the threshold is {thresholds.AttemptsAfterRevocation}.");
        }

        private FlagCandidate? KeySharing(List<HourEvidence> hours)
        {
            var over = hours.Where(h => h.Networks.Count > terms.MaxClientNetworks || h.UserAgents.Count > terms.MaxUserAgents).ToList();
            if (over.Count == 0)
            {
                return null;
            }

            var maxNetworks = over.Max(h => h.Networks.Count);
            var maxAgents = over.Max(h => h.UserAgents.Count);
            var widest = over.MaxBy(h => h.Networks.Count)!;
            var sample = string.Join(", ", widest.Networks.Take(5).Select(EvidenceNetwork.Describe));
            var severity = maxNetworks >= 2 * terms.MaxClientNetworks || maxAgents >= 2 * terms.MaxUserAgents ? FlagSeverities.High : FlagSeverities.Medium;
            return Candidate(
                FlagKinds.KeySharing,
                severity,
                over,
                new()
                {
                    ["maxNetworksInAnHour"] = maxNetworks,
                    ["licensedNetworks"] = terms.MaxClientNetworks,
                    ["maxUserAgentsInAnHour"] = maxAgents,
                    ["licensedUserAgents"] = terms.MaxUserAgents,
                    ["hoursOverLimit"] = over.Count,
                    ["atLeast"] = over.Any(h => h.NetworksSaturated || h.UserAgentsSaturated) ? 1 : 0,
                },
                $"Used from up to {maxNetworks} client networks (licence: {terms.MaxClientNetworks}) and {maxAgents} user agents (licence: {terms.MaxUserAgents}) in one hour, in {over.Count} hour(s); e.g. {sample}.");
        }

        private FlagCandidate? BulkHarvesting(List<HourEvidence> hours)
        {
            var purpose = licence?.Purpose;
            if (purpose is null || !thresholds.DaytimePurposesOrDefault.Contains(purpose, StringComparer.Ordinal))
            {
                return null;
            }

            var lastDay = hours.Where(h => h.Hour > nowHour - 24 && h.Calls > 0).ToList();
            var calls = hours.Sum(h => h.Calls);
            // Volume (records delivered) and breadth (distinct records: the hours' sketches united, ±1.6 %).
            var records = hours.Sum(h => h.Records);
            var distinct = hours.Aggregate((RecordSketch?)null, (all, h) => HourEvidence.Union(all, h.DistinctRecords))?.Estimate() ?? 0;
            var volume = calls >= thresholds.HarvestingCalls || records >= thresholds.HarvestingRecords || distinct >= thresholds.HarvestingDistinctRecords;
            if (lastDay.Count < thresholds.RoundTheClockHours || !volume)
            {
                return null;
            }

            var hoursOfDay = string.Join(",", lastDay.Select(h => (h.Hour % 24).ToString("D2", CultureInfo.InvariantCulture)).Order(StringComparer.Ordinal));
            var tenfold = calls >= 10 * thresholds.HarvestingCalls || records >= 10 * thresholds.HarvestingRecords || distinct >= 10 * thresholds.HarvestingDistinctRecords;
            return Candidate(
                FlagKinds.BulkHarvesting,
                lastDay.Count >= 24 && tenfold ? FlagSeverities.High : FlagSeverities.Medium,
                hours.Where(h => h.Calls > 0).ToList(),
                new()
                {
                    ["activeHoursOfLast24"] = lastDay.Count,
                    ["roundTheClockHours"] = thresholds.RoundTheClockHours,
                    ["calls"] = calls,
                    ["callsThreshold"] = thresholds.HarvestingCalls,
                    ["records"] = records,
                    ["recordsThreshold"] = thresholds.HarvestingRecords,
                    ["distinctRecords"] = distinct,
                    ["distinctRecordsThreshold"] = thresholds.HarvestingDistinctRecords,
                },
                $"Active in {lastDay.Count} of the last 24 hours (UTC hours {hoursOfDay}) with {calls} calls delivering {records} records, about {distinct} of them distinct (±{RecordSketch.StandardError:P1}), for the declared purpose '{purpose}', which people use in their waking hours; thresholds: {thresholds.RoundTheClockHours} hours and {thresholds.HarvestingCalls} calls, {thresholds.HarvestingRecords} records or {thresholds.HarvestingDistinctRecords} distinct records.");
        }

        private FlagCandidate Candidate(string kind, string severity, List<HourEvidence> hours, Dictionary<string, long> numbers, string summary) =>
            Candidate(kind, severity, hours.Min(h => h.Hour), hours.Max(h => h.Hour) + 1, numbers, summary);

        /// <summary>A candidate over evidence hours [<paramref name="fromHour"/>, <paramref name="toHour"/>).</summary>
        private FlagCandidate Candidate(string kind, string severity, long fromHour, long toHour, Dictionary<string, long> numbers, string summary) => new(
            kind,
            key.CustomerId,
            key.KeyId,
            severity,
            new DateTimeOffset(fromHour * TimeSpan.TicksPerHour, TimeSpan.Zero),
            new DateTimeOffset(toHour * TimeSpan.TicksPerHour, TimeSpan.Zero),
            numbers,
            summary,
            licence?.Purpose,
            licence?.Version);
    }
}

/// <summary>Sends flags a scan raised or grew to downstream tools (in Azure: the <c>compliance-flags</c> topic). None in single-node mode: flags stay in the table.</summary>
public interface IComplianceFlagPublisher
{
    Task PublishAsync(ComplianceFlag flag, CancellationToken cancellationToken);
}
