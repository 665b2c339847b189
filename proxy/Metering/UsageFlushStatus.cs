namespace Gateway.Proxy.Metering;

/// <summary>
/// How far storage is behind the counts in memory, for the readiness check and the usage gauges.
/// <see cref="UsageFlushService"/> reports when each flush starts and how many flushes its backlog needs; the counts
/// themselves say what is dirty and since when (<see cref="FlushableCount.StoredBefore"/>).
/// </summary>
public sealed class UsageFlushStatus(IEnumerable<IUsageRowSource> sources, TimeProvider time)
{
    /// <summary>The start of the last flush, or the process start: every count no flush has found dirty is younger.</summary>
    private long _lastFlushStarted = time.GetTimestamp();

    private int _backlogFlushes = 1;

    /// <summary>The start of the last flush (or of the process), for <see cref="FlushableCount.FoundDirty"/>.</summary>
    public long LastFlushStarted => Volatile.Read(ref _lastFlushStarted);

    /// <summary>
    /// How many flushes the largest partition's dirty rows needed at the last flush, at its partition budget (1 when
    /// every partition fits one flush): a count waits at most this many flush intervals in normal running.
    /// </summary>
    public int BacklogFlushes => Volatile.Read(ref _backlogFlushes);

    /// <summary>Called as a flush starts gathering rows; the value goes back to <see cref="FlushEnded"/>.</summary>
    public long FlushStarting() => time.GetTimestamp();

    /// <summary>Called once a flush has written what it could; returns how long the flush took.</summary>
    public TimeSpan FlushEnded(long started, int backlogFlushes)
    {
        Volatile.Write(ref _lastFlushStarted, started);
        Volatile.Write(ref _backlogFlushes, Math.Max(1, backlogFlushes));
        return time.GetElapsedTime(started);
    }

    /// <summary>Usage cells and quota-month rows whose count storage does not hold yet: the rows the next flush writes.</summary>
    public int DirtyCells() =>
        sources.Sum(s => s.FlushableCounts.Count(c => c.IsDirty));

    /// <summary>
    /// The live loss window: how long ago the oldest count that storage does not hold yet was made, at most; zero when
    /// storage holds every count. Each dirty count knows a time before which all its calls are stored
    /// (<see cref="FlushableCount.StoredBefore"/>); one no flush has found yet is younger than the last flush's start.
    /// In normal running it stays within <see cref="BacklogFlushes"/> flush intervals plus the time a flush takes;
    /// while storage is down it grows with the outage.
    /// </summary>
    public TimeSpan OldestUnflushedAge()
    {
        var oldest = long.MaxValue;
        foreach (var source in sources)
        {
            foreach (var count in source.FlushableCounts)
            {
                if (count.IsDirty)
                {
                    var stamp = count.StoredBefore;
                    oldest = Math.Min(oldest, stamp == FlushableCount.Unstamped ? LastFlushStarted : stamp);
                }
            }
        }

        return oldest == long.MaxValue ? TimeSpan.Zero : time.GetElapsedTime(oldest);
    }
}
