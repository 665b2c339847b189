using System.Collections.Concurrent;
using Gateway.Core.Plans;

namespace Gateway.Proxy.Quotas;

public enum QuotaDecision
{
    /// <summary>Within the calls included this month.</summary>
    Included,

    /// <summary>Past the included calls on a plan that bills overage: served and billed.</summary>
    Overage,

    /// <summary>Past the included calls on a plan that blocks: refused until next month.</summary>
    Exhausted,
}

/// <summary>One key's calls in one UTC month: what other writers had stored when last read, plus this process's own.</summary>
public sealed class QuotaPeriod(string customerId, string keyId, int month)
{
    private long _baseline;
    private long _local;
    private long _flushed;

    public string CustomerId { get; } = customerId;
    public string KeyId { get; } = keyId;
    public int Month { get; } = month;

    /// <summary>Calls admitted by this process (its writer) this month.</summary>
    public long Local => Volatile.Read(ref _local);

    /// <summary>Calls stored by other writers (other instances, earlier runs) when last read.</summary>
    public long Baseline => Volatile.Read(ref _baseline);

    public long Used => Baseline + Local;

    public long Flushed => Volatile.Read(ref _flushed);

    public void SetBaseline(long value) => Volatile.Write(ref _baseline, value);

    public void MarkFlushed(long value)
    {
        long seen;
        while ((seen = Volatile.Read(ref _flushed)) < value && Interlocked.CompareExchange(ref _flushed, value, seen) != seen)
        {
        }
    }

    /// <summary>Admits one call. On a blocking plan the check and the count are one atomic step, so exactly the quota gets through.</summary>
    public QuotaDecision TryAdmit(Plan plan)
    {
        if (plan.OverQuota == OverQuotaBehaviour.Bill)
        {
            return Baseline + Interlocked.Increment(ref _local) > plan.MonthlyQuota ? QuotaDecision.Overage : QuotaDecision.Included;
        }

        while (true)
        {
            var local = Volatile.Read(ref _local);
            if (Baseline + local >= plan.MonthlyQuota)
            {
                return QuotaDecision.Exhausted;
            }

            if (Interlocked.CompareExchange(ref _local, local + 1, local) == local)
            {
                return QuotaDecision.Included;
            }
        }
    }
}

/// <summary>
/// Monthly call counts per key, the source of quota decisions and of the month rows in the usage table.
/// Periods of past months stay until flushed, then go.
/// </summary>
public sealed class QuotaLedger
{
    private readonly ConcurrentDictionary<(string KeyId, int Month), QuotaPeriod> _periods = new();

    public QuotaPeriod Period(string customerId, string keyId, int month) =>
        _periods.GetOrAdd((keyId, month), static (k, customerId) => new QuotaPeriod(customerId, k.KeyId, k.Month), customerId);

    public IEnumerable<QuotaPeriod> Periods => _periods.Values;

    public void Forget(QuotaPeriod period) => _periods.TryRemove(new KeyValuePair<(string, int), QuotaPeriod>((period.KeyId, period.Month), period));
}
