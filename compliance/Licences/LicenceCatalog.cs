using Gateway.Core.Plans;
using Microsoft.Extensions.Options;

namespace Gateway.Compliance;

/// <summary>Each plan's licence terms and detection thresholds: the plan's route groups with <see cref="ComplianceOptions.Plans"/>.</summary>
public sealed class LicenceCatalog(PlanCatalog plans, IOptions<ComplianceOptions> options)
{
    private static readonly PlanComplianceOptions Defaults = new();

    public PlanComplianceOptions Settings(string plan) =>
        options.Value.Plans.TryGetValue(plan, out var settings) ? settings : Defaults;

    /// <summary>The plan's terms; false for a plan the catalog does not have.</summary>
    public bool TryGetTerms(string? plan, out LicenceTerms terms)
    {
        if (!plans.TryGet(plan, out var found))
        {
            terms = null!;
            return false;
        }

        var settings = Settings(found.Name);
        terms = new LicenceTerms(
            [.. found.RouteGroups.Order(StringComparer.Ordinal)],
            [.. settings.PurposesOrDefault.Select(p => p.Trim().ToLowerInvariant())],
            settings.Redistribution,
            settings.DailyRecordCap,
            settings.MaxClientNetworks,
            settings.MaxUserAgents,
            settings.RetentionDays);
        return true;
    }

    public DetectionThresholds Thresholds(string plan) => Settings(plan).Detection;
}
