using System.Collections.Concurrent;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;

namespace Gateway.Compliance;

/// <summary>
/// The gateway's evidence in memory: one <see cref="KeyHourEvidence"/> per key and UTC hour, recorded after each
/// response (no storage I/O on the request path; a cell already present costs a dictionary lookup and a lock), and
/// written to the evidence table by <see cref="FlushAsync"/> as this writer's totals per cell.
/// </summary>
public sealed class EvidenceRecorder(EvidenceTable table, RecordTable records, IOptions<ComplianceOptions> options, TimeProvider time) : IDisposable
{
    private readonly ConcurrentDictionary<(string KeyId, long Hour), KeyHourEvidence> _cells = new();
    private readonly ConcurrentDictionary<(string KeyId, long Day), KeyDayRecords> _days = new();
    private readonly SemaphoreSlim _flushing = new(1, 1);
    private readonly int _cap = options.Value.DistinctCap;

    /// <summary>This process's id in the evidence rows: unique per process start, so instances never overwrite each other.</summary>
    public string Writer { get; } = $"{Environment.MachineName}-{Environment.ProcessId}-{System.Security.Cryptography.RandomNumberGenerator.GetHexString(8, lowercase: true)}";

    /// <summary>Records one request by a known key. <paramref name="userAgent"/> is hashed, never kept.</summary>
    public void Record(string keyId, string customerId, string plan, ulong network, string? userAgent, EvidenceKind kind)
    {
        var hour = time.GetUtcNow().UtcTicks / TimeSpan.TicksPerHour;
        if (!_cells.TryGetValue((keyId, hour), out var cell))
        {
            cell = _cells.GetOrAdd((keyId, hour), static (k, state) => new KeyHourEvidence(k.KeyId, state.CustomerId, state.Plan, k.Hour, state.Cap), (CustomerId: customerId, Plan: plan, Cap: _cap));
        }

        cell.Record(network, UserAgentHash(userAgent), kind);
    }

    /// <summary>
    /// Record ids (hashes) a response to the key delivered, a batch at a time: counted and sketched in the key's hour,
    /// counted and filtered in its UTC day (the day count is what the daily record cap reads).
    /// </summary>
    public void RecordsDelivered(string keyId, string customerId, string plan, ReadOnlySpan<ulong> recordIds)
    {
        var now = time.GetUtcNow().UtcTicks;
        var hour = now / TimeSpan.TicksPerHour;
        if (!_cells.TryGetValue((keyId, hour), out var cell))
        {
            cell = _cells.GetOrAdd((keyId, hour), static (k, state) => new KeyHourEvidence(k.KeyId, state.CustomerId, state.Plan, k.Hour, state.Cap), (CustomerId: customerId, Plan: plan, Cap: _cap));
        }

        cell.RecordsDelivered(recordIds);
        var day = now / TimeSpan.TicksPerDay;
        if (!_days.TryGetValue((keyId, day), out var today))
        {
            today = _days.GetOrAdd((keyId, day), static (k, customer) => new KeyDayRecords(k.KeyId, customer, k.Day), customerId);
        }

        today.Delivered(recordIds);
    }

    /// <summary>Records this process delivered to the key on the current UTC day (0 before the first).</summary>
    public long RecordsToday(string keyId) =>
        _days.TryGetValue((keyId, time.GetUtcNow().UtcTicks / TimeSpan.TicksPerDay), out var today) ? today.Records : 0;

    /// <summary>The key-day cells in memory (tests).</summary>
    internal IEnumerable<KeyDayRecords> Days => _days.Values;

    /// <summary>The cells in memory (tests).</summary>
    internal IEnumerable<KeyHourEvidence> Cells => _cells.Values;

    public void Dispose() => _flushing.Dispose();

    public static ulong UserAgentHash(string? userAgent) =>
        string.IsNullOrEmpty(userAgent) ? 0 : XxHash3.HashToUInt64(MemoryMarshal.AsBytes(userAgent.AsSpan()));

    /// <summary>
    /// Writes every dirty cell (this writer's totals, upsert-replace) and marks each flushed as of its snapshot; then
    /// drops clean cells two hours past (no request records into a past hour). One flush at a time. Answers the rows written.
    /// </summary>
    public async Task<int> FlushAsync(CancellationToken cancellationToken)
    {
        await _flushing.WaitAsync(cancellationToken);
        try
        {
            // Snapshots first, written in partition batches, each cell marked flushed as of its snapshot only after its
            // batch was stored (a failed batch leaves its cells dirty for the next flush).
            var dirty = _cells.Values.Where(c => c.IsDirty).Select(c => (Cell: c, Snapshot: c.Snapshot())).ToList();
            var written = 0;
            foreach (var partition in dirty.GroupBy(d => EvidenceTable.PartitionKey(d.Cell.Hour, d.Cell.KeyId)))
            {
                foreach (var batch in partition.Chunk(100))
                {
                    await table.WriteManyAsync([.. batch.Select(d => new EvidenceRow(d.Cell.KeyId, d.Cell.CustomerId, d.Cell.Plan, d.Snapshot.Evidence))], Writer, cancellationToken);
                    foreach (var (cell, snapshot) in batch)
                    {
                        cell.MarkFlushed(snapshot.Change);
                    }

                    written += batch.Length;
                }
            }

            var days = _days.Values.Where(d => d.IsDirty).Select(d => (Cell: d, Snapshot: d.Snapshot())).ToList();
            foreach (var batch in days.Chunk(100))
            {
                await records.WriteManyAsync([.. batch.Select(d => new DayRecordsRow(d.Cell.KeyId, d.Cell.CustomerId, d.Cell.Day, d.Snapshot.Records, d.Snapshot.Filter))], Writer, cancellationToken);
                foreach (var (cell, snapshot) in batch)
                {
                    cell.MarkFlushed(snapshot.Change);
                }

                written += batch.Length;
            }

            // A day cell stays for the day after its own (a response finishing just after midnight adds to the new day).
            var yesterday = time.GetUtcNow().UtcTicks / TimeSpan.TicksPerDay - 1;
            foreach (var (key, cell) in _days)
            {
                if (key.Day < yesterday && !cell.IsDirty)
                {
                    _days.TryRemove(key, out _);
                }
            }

            var past = time.GetUtcNow().UtcTicks / TimeSpan.TicksPerHour - 2;
            foreach (var (key, cell) in _cells)
            {
                if (key.Hour < past && !cell.IsDirty)
                {
                    _cells.TryRemove(key, out _);
                }
            }

            return written;
        }
        finally
        {
            _flushing.Release();
        }
    }
}
