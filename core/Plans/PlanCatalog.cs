using System.Collections.Frozen;
using Microsoft.Extensions.Options;

namespace Gateway.Core.Plans;

/// <summary>The plans this deployment sells, from configuration ("plans as code"). Names are case-insensitive.</summary>
public sealed class PlanCatalog
{
    private readonly FrozenDictionary<string, Plan> _plans;

    public PlanCatalog(IOptions<GatewayOptions> options)
        : this(options.Value.Plans)
    {
    }

    public PlanCatalog(IReadOnlyDictionary<string, PlanOptions> plans)
    {
        _plans = plans.ToFrozenDictionary(
            p => p.Key.ToLowerInvariant(),
            p => new Plan(p.Key.ToLowerInvariant(), p.Value),
            StringComparer.OrdinalIgnoreCase);
    }

    public IEnumerable<Plan> All => _plans.Values.OrderBy(p => p.MonthlyQuota);

    public bool TryGet(string? name, out Plan plan)
    {
        if (name is not null && _plans.TryGetValue(name, out var found))
        {
            plan = found;
            return true;
        }

        plan = null!;
        return false;
    }
}
