namespace Gateway.Proxy.Metering;

/// <summary>
/// A count made in memory (calls in a usage cell, calls against a key's quota in a month) and the value of it that
/// storage holds, as last written. Counting is one interlocked operation and allocates nothing.
/// <para>
/// Ordering rule: a flush reads <see cref="Count"/> once (<see cref="TryReadDirty"/>), writes the row with that
/// value, and calls <see cref="MarkFlushed"/> with the same value only after storage has accepted the row. Flushes run
/// one at a time (<see cref="UsageFlushService"/>), so the value marked last is the value storage holds; it can be
/// lower than an earlier one (a quota refund lowers a count), which is why it is set and never raised to a maximum.
/// A count that changes after it was read stays dirty (<see cref="Count"/> ≠ <see cref="Flushed"/>) and is written by
/// the next flush. A count is dropped only by its owner, only when it is clean, and only once no call can change it
/// any more (<see cref="IUsageRowSource.ForgetFlushed"/>).
/// </para>
/// <para>
/// Age: <see cref="StoredBefore"/> is a time before which every call of this count is in storage. A flush sets it to
/// its own start when it writes the count (it read the count after it started, so the value it wrote holds every
/// call made before). A count no flush has written yet gets it when a flush first finds it dirty: the start of the
/// flush before that one, which did not find it dirty (or the process start), so its calls are all younger. Only the
/// flush writes it, one flush at a time; readers (the loss-window gauge, the health check, the flush's own
/// oldest-first order) read it without a lock and at worst see the older stamp, which errs on the long side.
/// </para>
/// </summary>
public sealed class FlushableCount
{
    /// <summary>No flush has found this count dirty yet.</summary>
    public const long Unstamped = long.MinValue;

    private readonly UsageJournal? _journal;
    private long _count;
    private long _flushed;
    private long _storedBefore = Unstamped;
    private long _journaled;
    private int _queued;

    /// <summary>A count kept in memory only (no journal): the flush writes <see cref="Count"/>.</summary>
    public FlushableCount()
    {
    }

    /// <summary>
    /// A count whose changes go to <paramref name="journal"/> under <paramref name="journalKey"/> (one record line's
    /// prefix, made once per count): the flush then writes <see cref="Journaled"/>, so storage never holds a value the
    /// journal does not.
    /// </summary>
    public FlushableCount(UsageJournal journal, string journalKey)
    {
        _journal = journal;
        JournalKey = journalKey;
    }

    /// <summary>What names this count in the journal; null without a journal.</summary>
    public string? JournalKey { get; }

    /// <summary>The count in this process (its writer), including what is not stored yet.</summary>
    public long Count => Volatile.Read(ref _count);

    /// <summary>The count storage holds for this writer, as last written.</summary>
    public long Flushed => Volatile.Read(ref _flushed);

    /// <summary>The value the journal holds durably (fsynced); <see cref="Count"/> when there is no journal.</summary>
    public long Journaled => _journal is null ? Count : Volatile.Read(ref _journaled);

    /// <summary>Storage (or the journal) does not hold <see cref="Count"/> yet: the next flush (or commit) writes it.</summary>
    public bool IsDirty => Count != Flushed || Journaled != Count;

    public void Increment()
    {
        Interlocked.Increment(ref _count);
        Journal();
    }

    /// <summary>Adds <paramref name="delta"/> (negative to give calls back) and returns the new count.</summary>
    public long Add(long delta)
    {
        var count = Interlocked.Add(ref _count, delta);
        Journal();
        return count;
    }

    /// <summary>Counts one more only if the count is still <paramref name="seen"/>: one step of a check-and-count loop.</summary>
    public bool TryIncrementFrom(long seen)
    {
        if (Interlocked.CompareExchange(ref _count, seen + 1, seen) != seen)
        {
            return false;
        }

        Journal();
        return true;
    }

    /// <summary>
    /// Reads the value to write once; true when storage does not hold it, which is then the one to write. With a
    /// journal that value is <see cref="Journaled"/>: storage never runs ahead of the journal, so a replay after a
    /// crash never lowers what storage holds.
    /// </summary>
    public bool TryReadDirty(out long count)
    {
        count = Journaled;
        return count != Flushed;
    }

    /// <summary>Sets the count replayed from the journal of this writer's previous run, before any call is counted.</summary>
    internal void Restore(long value)
    {
        Volatile.Write(ref _count, value);
        Journal();
    }

    /// <summary>
    /// Journal ordering rule (the request side): the change is made first, then the count is queued for the journal
    /// unless it is queued already. The writer clears <see cref="_queued"/> before it reads <see cref="Count"/>
    /// (<see cref="TakeForCommit"/>), so a change either shows in that read or queues the count again: no change is
    /// left out of the journal. One volatile read on the hot path; one exchange and one enqueue per count per commit.
    /// </summary>
    private void Journal()
    {
        if (_journal is not null && Volatile.Read(ref _queued) == 0 && Interlocked.Exchange(ref _queued, 1) == 0)
        {
            _journal.Enqueue(this);
        }
    }

    /// <summary>The journal writer takes the count for a commit: unqueues it (a full fence), then reads the value to write.</summary>
    internal long TakeForCommit()
    {
        Interlocked.Exchange(ref _queued, 0);
        return Count;
    }

    /// <summary>A commit that took this count failed: queued again, for the next one.</summary>
    internal void Requeue()
    {
        Interlocked.Exchange(ref _queued, 1);
        _journal?.Enqueue(this);
    }

    /// <summary>The journal holds <paramref name="value"/> durably (called after the fsync, one writer at a time).</summary>
    internal void MarkJournaled(long value) => Volatile.Write(ref _journaled, value);

    /// <summary>A timestamp before which every call of this count is in storage, or <see cref="Unstamped"/> (see Age).</summary>
    public long StoredBefore => Volatile.Read(ref _storedBefore);

    /// <summary>A flush found this count dirty; if none had before, its calls are younger than <paramref name="previousFlushStarted"/>.</summary>
    public void FoundDirty(long previousFlushStarted)
    {
        if (StoredBefore == Unstamped)
        {
            Volatile.Write(ref _storedBefore, previousFlushStarted);
        }
    }

    /// <summary>Records the value just written by the flush that started at <paramref name="flushStarted"/> (see the ordering rule).</summary>
    public void MarkFlushed(long value, long flushStarted)
    {
        Volatile.Write(ref _storedBefore, flushStarted);
        Volatile.Write(ref _flushed, value);
    }
}
