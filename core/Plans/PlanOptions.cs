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

    /// <summary>
    /// The upstream answers billed and counted against the quota, as outcome names (<c>2xx</c>, <c>3xx</c>, <c>4xx</c>,
    /// <c>429</c>, <c>5xx</c>, <c>1xx</c>; see <see cref="BillableOutcomes"/>). Unset: 2xx, 3xx and 4xx other than 429.
    /// </summary>
    /// <remarks>Null by default rather than a list holding the default, which the configuration binder would append to.</remarks>
    public List<string?>? Billable { get; set; }

    /// <summary>Price per 1,000 calls above the monthly quota when <see cref="OverQuota"/> is <c>Bill</c>.</summary>
    public decimal OveragePricePerThousand { get; set; }
}
