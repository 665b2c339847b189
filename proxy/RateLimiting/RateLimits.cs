using Gateway.Core.Plans;

namespace Gateway.Proxy.RateLimiting;

/// <summary>Gives each key the <see cref="TokenBucket"/> its plan sizes.</summary>
public sealed class RateLimits(TimeProvider time)
{
    /// <summary>
    /// The bucket for a key on <paramref name="plan"/>: the one it has (<paramref name="current"/>, made for
    /// <paramref name="currentPlan"/>) while the plan stays the same, so re-reading a key neither refills nor drains
    /// it; otherwise a new, full one.
    /// </summary>
    public TokenBucket For(Plan plan, Plan? currentPlan = null, TokenBucket? current = null) =>
        current is not null && ReferenceEquals(currentPlan, plan)
            ? current
            : new TokenBucket(plan.RequestsPerSecond, plan.Burst, time.GetTimestamp(), time.TimestampFrequency);
}
