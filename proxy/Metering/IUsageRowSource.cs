using Azure.Data.Tables;

namespace Gateway.Proxy.Metering;

/// <summary>
/// Counts kept in memory that <see cref="UsageFlushService"/> writes as rows of the usage table: the hour rows of
/// <see cref="UsageRecorder"/> and the month rows of <see cref="Quotas.QuotaLedger"/>. Each row's count is a
/// <see cref="FlushableCount"/>, whose ordering rule the flush follows.
/// </summary>
public interface IUsageRowSource
{
    /// <summary>Every count this source holds, clean or dirty.</summary>
    IEnumerable<FlushableCount> FlushableCounts { get; }

    /// <summary>One row per dirty count, carrying the value it is written with.</summary>
    IEnumerable<UsageRow> DirtyRows(string writer);

    /// <summary>Drops the counts storage holds completely and that no call can change any more.</summary>
    void ForgetFlushed(DateTimeOffset now);
}

/// <summary>A row to write: the entity, and the count it was made from with the value it holds.</summary>
public readonly record struct UsageRow(TableEntity Entity, FlushableCount Count, long Value)
{
    /// <summary>Storage has accepted <see cref="Entity"/>, written by the flush that started at <paramref name="flushStarted"/>.</summary>
    public void Written(long flushStarted) => Count.MarkFlushed(Value, flushStarted);
}
