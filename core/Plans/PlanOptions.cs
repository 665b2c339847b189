namespace Gateway.Core.Plans;

/// <summary>One plan as written in configuration under <c>Gateway:Plans:{name}</c>.</summary>
public sealed class PlanOptions
{
    public string? DisplayName { get; set; }

    /// <summary>Sustained request rate the plan allows, per API key.</summary>
    public double RequestsPerSecond { get; set; }

    /// <summary>Requests a key may make at once above the sustained rate (token bucket capacity).</summary>
    public int Burst { get; set; }

    /// <summary>Calls included per UTC calendar month, per API key.</summary>
    public long MonthlyQuota { get; set; }

    /// <summary><c>Block</c> (429 once the quota is used) or <c>Bill</c> (served and billed as overage).</summary>
    /// <remarks>A string, so that a typo is reported by name at start instead of silently binding to the default.</remarks>
    public string OverQuota { get; set; } = nameof(OverQuotaBehaviour.Block);

    /// <summary>Route groups (API products) the plan's licence covers.</summary>
    public List<string> RouteGroups { get; set; } = [];

    /// <summary>Flat monthly price in the billing currency; used by billing.</summary>
    public decimal PricePerMonth { get; set; }

    /// <summary>Live (not revoked, not expired) keys a developer may hold on this plan for its customer; admins are not bound by it.</summary>
    public int MaxKeys { get; set; } = 10;

    /// <summary>Price per 1,000 calls above the monthly quota when <see cref="OverQuota"/> is <c>Bill</c>.</summary>
    public decimal OveragePricePerThousand { get; set; }
}
