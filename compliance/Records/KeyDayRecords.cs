namespace Gateway.Compliance;

/// <summary>
/// What one process delivered to one key on one UTC day: the records count (read by admission for the daily record
/// cap) and the <see cref="RecordFilter"/> of their ids.
/// <para>
/// <b>Ordering rule (the daily record counter).</b> A response's records are added when its body passes, batch by
/// batch, to the day the clock shows at that moment (the day is part of the cell's key, so a day change is a new cell,
/// never a reset racing an add). <see cref="Records"/> only grows, with <see cref="Interlocked.Add(ref long, long)"/>,
/// so concurrent responses never lose a count and admission reads it without a lock: once it reaches the cap every
/// later admission that day refuses. Responses admitted before that are delivered whole (the response that crosses
/// the cap included), so the day's total may pass the cap by what was in flight. Filter changes and snapshots happen
/// under the cell's lock and move the change number, as in <see cref="KeyHourEvidence"/>: a flush marks flushed only the
/// change its snapshot was taken at. Raced in <c>RecordsDeliveredConcurrencyTests</c>.
/// </para>
/// </summary>
public sealed class KeyDayRecords(string keyId, string customerId, long day)
{
    private readonly RecordFilter _filter = new();
    private long _records;
    private long _changes, _flushed;

    public string KeyId { get; } = keyId;
    public string CustomerId { get; } = customerId;

    /// <summary>UTC days since 0001-01-01 (<see cref="DateOnly.DayNumber"/>).</summary>
    public long Day { get; } = day;

    /// <summary>Records delivered so far this day by this process.</summary>
    public long Records => Volatile.Read(ref _records);

    public void Delivered(ReadOnlySpan<ulong> recordIds)
    {
        Interlocked.Add(ref _records, recordIds.Length);
        lock (_filter)
        {
            foreach (var id in recordIds)
            {
                _filter.Add(id);
            }

            _changes++;
        }
    }

    public bool IsDirty
    {
        get
        {
            lock (_filter)
            {
                return _changes != _flushed;
            }
        }
    }

    /// <summary>This process's records and filter for the day, and the change number they are as of.</summary>
    public (long Records, RecordFilter Filter, long Change) Snapshot()
    {
        lock (_filter)
        {
            return (Records, _filter.Copy(), _changes);
        }
    }

    public void MarkFlushed(long change)
    {
        lock (_filter)
        {
            _flushed = Math.Max(_flushed, change);
        }
    }

    /// <summary>Whether this process delivered <paramref name="recordId"/> (a hash) to the key this day (probably: Bloom).</summary>
    internal bool MayContain(ulong recordId)
    {
        lock (_filter)
        {
            return _filter.Contains(recordId);
        }
    }
}
