using Gateway.Core;
using Gateway.Core.Customers;
using Gateway.Core.Keys;
using Gateway.Core.Plans;
using Gateway.Proxy.Quotas;
using Gateway.Proxy.RateLimiting;
using Microsoft.Extensions.Options;

namespace Gateway.Proxy.Keys;

/// <summary>
/// Builds the <see cref="ApiCaller"/> the data plane holds for a key record read from storage: its plan, its token
/// bucket (<see cref="RateLimits"/>), its quota baseline (<see cref="QuotaBaselines"/>), its daily record cap
/// (<see cref="Gateway.Proxy.Compliance.DailyRecordCaps"/>), its customer's spend cap as a call ceiling
/// (<see cref="SpendCap.Ceiling"/>) and when to re-read it.
/// </summary>
public sealed partial class ApiCallerFactory(
    PlanCatalog plans,
    RateLimits rateLimits,
    QuotaBaselines baselines,
    Gateway.Proxy.Compliance.DailyRecordCaps recordCaps,
    SpendCaps spendCaps,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<ApiCallerFactory> logger)
{
    private readonly long _refreshTicks = (long)(options.Value.Keys.CacheRefresh.TotalSeconds * time.TimestampFrequency);
    private readonly long _staleTicks = options.Value.Keys.MaxStaleness is { } stale ? (long)(stale.TotalSeconds * time.TimestampFrequency) : long.MaxValue;

    /// <param name="previous">The entry a background refresh replaces: a key still on the same plan keeps its bucket.</param>
    public async Task<ApiCaller> CreateAsync(ApiKeyRecord record, string key, ApiCaller? previous, CancellationToken cancellationToken)
    {
        if (!plans.TryGet(record.Plan, out var plan))
        {
            // A key on a plan that was removed from the catalog keeps working on the most restrictive plan.
            plan = plans.All.First();
            LogUnknownPlan(logger, record.Id, record.Plan, plan.Name);
        }

        var bucket = rateLimits.For(plan, previous?.Plan, previous?.RateLimit);
        // Spread over 75-100 % of CacheRefresh, so keys loaded together do not all come due together.
        var readAt = time.GetTimestamp();
        var refreshAt = readAt + (long)(_refreshTicks * (0.75 + (0.25 * Random.Shared.NextDouble())));
        var staleAt = _staleTicks == long.MaxValue ? long.MaxValue : readAt + _staleTicks;
        // The licence read (only when some route counts records) runs alongside the baseline read.
        var cap = recordCaps.LoadAsync(record, cancellationToken);
        // The spend cap (only on a plan whose overage it can bound) is read alongside too.
        var spendCap = SpendCap.Ceiling(plan, 0) == long.MaxValue ? Task.FromResult<decimal?>(null) : spendCaps.ReadAsync(record.CustomerId, cancellationToken);
        var period = await baselines.LoadAsync(record.CustomerId, record.Id, cancellationToken);
        return new ApiCaller(record, plan, key, bucket, refreshAt, period, ExpiresAt(record), await cap, SpendCap.Ceiling(plan, await spendCap), staleAt);
    }

    /// <summary>A rotated key's expiry as a timestamp of the injected clock, so the hot path compares two longs.</summary>
    private long ExpiresAt(ApiKeyRecord record)
    {
        if (record.ExpiresAt is not { } expiresAt)
        {
            return long.MaxValue;
        }

        var left = (expiresAt - time.GetUtcNow()).TotalSeconds;
        return left <= 0 ? 0 : time.GetTimestamp() + (long)Math.Min(left * time.TimestampFrequency, long.MaxValue / 2);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Key {KeyId} is on plan '{Plan}', which the catalog no longer has; enforcing plan '{Fallback}'.")]
    private static partial void LogUnknownPlan(ILogger logger, string keyId, string plan, string fallback);
}
