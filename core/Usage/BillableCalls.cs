using Gateway.Core.Keys;
using Gateway.Core.Plans;

namespace Gateway.Core.Usage;

/// <summary>
/// Which of one customer's counted calls are billable: those whose outcome is in the billable set of the plan of the
/// key that made them (<see cref="Plan.Billable"/>), the same set the proxy gave quota back by. The key's plan is the
/// one it has now (as the invoice preview prices it); a key no longer stored, or on a plan the catalog no longer has,
/// is judged by <see cref="BillableOutcomes.Default"/>. Read by the usage API, billing (meter events, previews,
/// reconciliation) and compliance reports, so they all count the same calls.
/// </summary>
public sealed class BillableCalls
{
    private readonly Dictionary<string, BillableOutcomes> _byKey;
    private readonly BillableOutcomes _fallback;

    private BillableCalls(Dictionary<string, BillableOutcomes> byKey, BillableOutcomes fallback)
    {
        _byKey = byKey;
        _fallback = fallback;
    }

    /// <summary>Every key judged by <paramref name="billable"/> (for callers that hold no keys).</summary>
    public static BillableCalls Uniform(BillableOutcomes billable) => new(new(StringComparer.Ordinal), billable);

    /// <summary>The customer's keys' plans, read once (one query of the customer's keys).</summary>
    public static async Task<BillableCalls> OfCustomerAsync(IApiKeyStore keys, PlanCatalog plans, string customerId, CancellationToken cancellationToken) =>
        Of(await keys.ListByCustomerAsync(customerId, cancellationToken), plans);

    /// <summary>From keys already read.</summary>
    public static BillableCalls Of(IEnumerable<ApiKeyRecord> customerKeys, PlanCatalog plans)
    {
        var byKey = new Dictionary<string, BillableOutcomes>(StringComparer.Ordinal);
        foreach (var key in customerKeys)
        {
            if (plans.TryGet(key.Plan, out var plan))
            {
                byKey[key.Id] = plan.Billable;
            }
        }

        return new BillableCalls(byKey, BillableOutcomes.Default);
    }

    public bool IsBilled(UsageCell cell) => IsBilled(cell.KeyId, cell.Outcome);

    public bool IsBilled(string keyId, CallOutcome outcome) =>
        outcome.IsUpstreamAnswer() && _byKey.GetValueOrDefault(keyId, _fallback).Contains(outcome);
}
