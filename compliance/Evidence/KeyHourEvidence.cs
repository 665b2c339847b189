namespace Gateway.Compliance;

/// <summary>
/// What one process saw of one key in one UTC hour: calls, refusals by kind, and bounded sets of client networks and
/// user agents (hashes; at most <see cref="ComplianceOptions.DistinctCap"/> each, then "at least that many"), records
/// delivered and a sketch of the distinct records (created with the first record).
/// <para>
/// <b>Ordering rule.</b> Every change and every snapshot happens under the cell's lock and moves
/// <see cref="_changes"/>. A flush takes a snapshot with the change number it was taken at, writes it, and only then
/// marks that number flushed; a change made after the snapshot leaves the cell dirty for the next flush. Rows hold this
/// process's totals for the cell (upsert-replace), so a retried or repeated write never double counts.
/// </para>
/// </summary>
public sealed class KeyHourEvidence(string keyId, string customerId, string plan, long hour, int distinctCap)
{
    private readonly HashSet<ulong> _networks = [];
    private readonly HashSet<ulong> _userAgents = [];
    private long _calls, _unlicensed, _afterRevocation, _quotaRefusals, _records;
    private RecordSketch? _distinctRecords;
    private bool _networksSaturated, _userAgentsSaturated;
    private long _changes, _flushed;

    public string KeyId { get; } = keyId;
    public string CustomerId { get; } = customerId;
    public string Plan { get; } = plan;

    /// <summary>Hours since 0001-01-01 UTC (<c>UtcTicks / TicksPerHour</c>; not the Unix hours of the usage ledger).</summary>
    public long Hour { get; } = hour;

    public void Record(ulong network, ulong userAgent, EvidenceKind kind)
    {
        lock (_networks)
        {
            switch (kind)
            {
                case EvidenceKind.Call: _calls++; break;
                case EvidenceKind.UnlicensedRoute: _unlicensed++; break;
                case EvidenceKind.AfterRevocation: _afterRevocation++; break;
                default: _quotaRefusals++; break;
            }

            Add(_networks, network, distinctCap, ref _networksSaturated);
            Add(_userAgents, userAgent, distinctCap, ref _userAgentsSaturated);
            _changes++;
        }
    }

    /// <summary>Record ids one response delivered (a batch of their hashes): counted, and added to the distinct-records sketch.</summary>
    public void RecordsDelivered(ReadOnlySpan<ulong> recordIds)
    {
        lock (_networks)
        {
            _distinctRecords ??= new RecordSketch();
            foreach (var id in recordIds)
            {
                _distinctRecords.Add(id);
            }

            _records += recordIds.Length;
            _changes++;
        }
    }

    /// <summary>Changes not yet in storage.</summary>
    public bool IsDirty
    {
        get
        {
            lock (_networks)
            {
                return _changes != _flushed;
            }
        }
    }

    /// <summary>This process's totals for the cell, and the change number they are as of.</summary>
    public (HourEvidence Evidence, long Change) Snapshot()
    {
        lock (_networks)
        {
            return (new HourEvidence(Hour, _calls, _unlicensed, _afterRevocation, _quotaRefusals, [.. _networks], _networksSaturated, [.. _userAgents], _userAgentsSaturated, _records, _distinctRecords?.Copy()), _changes);
        }
    }

    /// <summary>Storage accepted the snapshot taken at <paramref name="change"/>.</summary>
    public void MarkFlushed(long change)
    {
        lock (_networks)
        {
            _flushed = Math.Max(_flushed, change);
        }
    }

    private static void Add(HashSet<ulong> set, ulong value, int cap, ref bool saturated)
    {
        if (set.Count < cap)
        {
            set.Add(value);
        }
        else if (!set.Contains(value))
        {
            saturated = true;
        }
    }
}

/// <summary>
/// Evidence of one key in one hour, of one writer or merged across writers: counts, and distinct networks and user
/// agents (hashes) with whether a set overflowed its cap (its size is then a lower bound), records delivered and the
/// sketch of distinct records (null: none delivered).
/// </summary>
public sealed record HourEvidence(
    long Hour,
    long Calls,
    long UnlicensedRoute,
    long AfterRevocation,
    long QuotaRefusals,
    IReadOnlyCollection<ulong> Networks,
    bool NetworksSaturated,
    IReadOnlyCollection<ulong> UserAgents,
    bool UserAgentsSaturated,
    long Records = 0,
    RecordSketch? DistinctRecords = null)
{
    /// <summary>Any request at all in the hour: a call or a refused attempt.</summary>
    public bool Active => Calls + UnlicensedRoute + AfterRevocation + QuotaRefusals > 0;

    /// <summary>Two writers' evidence of the same hour: counts add, sets unite.</summary>
    public HourEvidence Merge(HourEvidence other) => new(
        Hour,
        Calls + other.Calls,
        UnlicensedRoute + other.UnlicensedRoute,
        AfterRevocation + other.AfterRevocation,
        QuotaRefusals + other.QuotaRefusals,
        Networks.Union(other.Networks).ToHashSet(),
        NetworksSaturated || other.NetworksSaturated,
        UserAgents.Union(other.UserAgents).ToHashSet(),
        UserAgentsSaturated || other.UserAgentsSaturated,
        Records + other.Records,
        Union(DistinctRecords, other.DistinctRecords));

    /// <summary>The union of two sketches (a new one; neither is changed).</summary>
    public static RecordSketch? Union(RecordSketch? a, RecordSketch? b)
    {
        if (a is null || b is null)
        {
            return (a ?? b)?.Copy();
        }

        var union = a.Copy();
        union.Merge(b);
        return union;
    }
}
