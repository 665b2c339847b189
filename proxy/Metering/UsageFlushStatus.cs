namespace Gateway.Proxy.Metering;

/// <summary>
/// How far storage is behind the counts in memory, for the readiness check and the usage gauges:
/// <see cref="UsageFlushService"/> reports when each flush starts and how it ended; the cells say what is dirty now.
/// </summary>
public sealed class UsageFlushStatus(IEnumerable<IUsageRowSource> sources, TimeProvider time)
{
    /// <summary>Every count made before this timestamp is in storage: the start of the last flush that wrote everything it gathered.</summary>
    private long _storedBefore = time.GetTimestamp();

    /// <summary>Called as a flush starts gathering cells; the value goes back to <see cref="FlushEnded"/>.</summary>
    public long FlushStarting() => time.GetTimestamp();

    /// <summary>Called once a flush has written what it gathered (or failed to); returns how long the flush took.</summary>
    public TimeSpan FlushEnded(long started, FlushResult result)
    {
        if (result.Complete)
        {
            // Flushes run one at a time, but never let a value go backwards.
            long seen;
            while ((seen = Volatile.Read(ref _storedBefore)) < started && Interlocked.CompareExchange(ref _storedBefore, started, seen) != seen)
            {
            }
        }

        return time.GetElapsedTime(started);
    }

    /// <summary>Usage cells and quota-month rows whose count storage does not hold yet: the rows the next flush writes.</summary>
    public int DirtyCells() =>
        sources.Sum(s => s.FlushableCounts.Count(c => c.IsDirty));

    /// <summary>
    /// The live loss window: how long ago the oldest count that storage does not hold yet was made, at most; zero when
    /// storage holds every count. A flush that wrote everything it gathered stored every count made before it started,
    /// so the oldest unflushed count is younger than the start of the last such flush, and this is the time since then.
    /// While storage is down it grows with the outage; in normal running it stays within a flush interval plus the
    /// time a flush takes. When only some of a flush's batches fail it errs on the long side.
    /// </summary>
    public TimeSpan OldestUnflushedAge() =>
        DirtyCells() == 0 ? TimeSpan.Zero : time.GetElapsedTime(Volatile.Read(ref _storedBefore));
}
