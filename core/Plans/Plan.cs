using Gateway.Core.Usage;
using System.Collections.Frozen;

namespace Gateway.Core.Plans;

/// <summary>What a caller on a plan gets once its monthly included calls are used up.</summary>
public enum OverQuotaBehaviour
{
    /// <summary>Further calls are refused with 429 until the next UTC month.</summary>
    Block,

    /// <summary>Further calls are served and billed as overage.</summary>
    Bill,
}

/// <summary>A plan (tier) as the gateway enforces it: immutable, built from <see cref="PlanOptions"/>.</summary>
public sealed class Plan
{
    public Plan(string name, PlanOptions options)
    {
        Name = name;
        DisplayName = string.IsNullOrWhiteSpace(options.DisplayName) ? name : options.DisplayName;
        RequestsPerSecond = options.RequestsPerSecond;
        Burst = options.Burst;
        MonthlyQuota = options.MonthlyQuota;
        OverQuota = Enum.Parse<OverQuotaBehaviour>(options.OverQuota, ignoreCase: true);
        RouteGroups = options.RouteGroups.Select(g => g.Trim().ToLowerInvariant()).ToFrozenSet(StringComparer.Ordinal);
        PricePerMonth = options.PricePerMonth;
        OveragePricePerThousand = options.OveragePricePerThousand;
        MaxKeys = options.MaxKeys;
        Billable = BillableOutcomes.Parse(options.Billable, out var error) ?? throw new ArgumentException($"Gateway:Plans:{name}:Billable{error}", nameof(options));
    }

    public string Name { get; }
    public string DisplayName { get; }
    public double RequestsPerSecond { get; }
    public int Burst { get; }
    public long MonthlyQuota { get; }
    public OverQuotaBehaviour OverQuota { get; }
    public FrozenSet<string> RouteGroups { get; }
    public decimal PricePerMonth { get; }
    public decimal OveragePricePerThousand { get; }
    public int MaxKeys { get; }

    /// <summary>The upstream answers billed and counted against the quota (one set for both).</summary>
    public BillableOutcomes Billable { get; }

    /// <summary>Whether a call with this outcome is billed and uses quota on this plan.</summary>
    public bool Bills(CallOutcome outcome) => Billable.Contains(outcome);

    public bool Covers(string routeGroup) => RouteGroups.Contains(routeGroup);
}
