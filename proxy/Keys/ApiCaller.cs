using Gateway.Core.Keys;
using Gateway.Core.Plans;
using Gateway.Proxy.Quotas;
using Gateway.Proxy.RateLimiting;

namespace Gateway.Proxy.Keys;

/// <summary>
/// A verified API key as the data plane holds it in memory: who calls, on which plan, and the per-key state
/// (token bucket, current quota period). Set as a request feature once the key is verified.
/// </summary>
public sealed class ApiCaller(ApiKeyRecord record, Plan plan, string verifiedKey, TokenBucket rateLimit, long refreshAt, QuotaPeriod? period = null, long expiresAt = long.MaxValue, long dailyRecordCap = 0, long spendCeiling = long.MaxValue, long staleAt = long.MaxValue)
{
    private QuotaPeriod? _period = period;
    private int _refreshing;

    public string KeyId { get; } = record.Id;
    public string CustomerId { get; } = record.CustomerId;
    public ApiKeyStatus Status { get; } = record.Status;
    public Plan Plan { get; } = plan;

    /// <summary>The plaintext this entry was verified with. Memory only: never logged, stored or forwarded.</summary>
    internal string VerifiedKey { get; } = verifiedKey;

    public TokenBucket RateLimit { get; } = rateLimit;

    /// <summary>When (a <see cref="TimeProvider"/> timestamp) a rotated key stops working; <see cref="long.MaxValue"/> for a key without expiry.</summary>
    public long ExpiresAt { get; } = expiresAt;

    /// <summary>Records the key may receive per UTC day under its licence; 0: no cap.</summary>
    public long DailyRecordCap { get; } = dailyRecordCap;

    /// <summary>
    /// The most billable calls the customer's spend cap allows this key per month (<see cref="Gateway.Core.Customers.SpendCap.Ceiling"/>),
    /// read with the key; <see cref="long.MaxValue"/>: no cap applies.
    /// </summary>
    public long SpendCeiling { get; } = spendCeiling;

    /// <summary>The most calls the quota admits this month: the plan's quota on a blocking plan, else the spend ceiling.</summary>
    public long QuotaLimit => Plan.OverQuota == OverQuotaBehaviour.Block ? Plan.MonthlyQuota : SpendCeiling;

    /// <summary>When (a <see cref="TimeProvider"/> timestamp) the entry should be re-read from storage.</summary>
    public long RefreshAt { get; } = refreshAt;

    /// <summary>
    /// From when (a <see cref="TimeProvider"/> timestamp) the entry is too old to serve while no re-read has succeeded
    /// (<c>Gateway:Keys:MaxStaleness</c>); <see cref="long.MaxValue"/> when unset. Never before <see cref="RefreshAt"/>.
    /// </summary>
    public long StaleAt { get; } = staleAt;

    /// <summary>The key's quota period for <paramref name="month"/>, cached so the hot path skips the ledger lookup.</summary>
    public QuotaPeriod QuotaPeriod(QuotaLedger ledger, int month)
    {
        var period = _period;
        if (period is null || period.Month != month)
        {
            period = ledger.Period(CustomerId, KeyId, month);
            _period = period;
        }

        return period;
    }

    /// <summary>True for exactly one caller until <see cref="RefreshDone"/>: a single background refresh per key.</summary>
    internal bool TryStartRefresh() => Interlocked.Exchange(ref _refreshing, 1) == 0;

    internal void RefreshDone() => Volatile.Write(ref _refreshing, 0);
}
