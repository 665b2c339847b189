using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Gateway.Core;
using Gateway.Core.Storage;
using Gateway.Core.Usage;
using Microsoft.Extensions.Options;

namespace Gateway.Proxy.Quotas;

/// <summary>What one lease call left this writer with.</summary>
/// <param name="Allocation">The calls this writer may have admitted in total this month (its month count may reach it).</param>
/// <param name="Granted">The calls this call added to <paramref name="Allocation"/> (0 for a renewal, or when nothing is left).</param>
/// <param name="Remaining">The key's quota not allocated to any writer after this call.</param>
public readonly record struct LeaseGrant(long Allocation, long Granted, long Remaining);

/// <summary>
/// The quota leases table (<c>{prefix}QuotaLeases</c>): one row per key and UTC month holding how the key's monthly
/// quota is allocated among the gateway instances (writers) that share it. Each writer has an entry: its allocation
/// (the calls it may have admitted in total this month), the count it last reported, and when its lease expires.
/// <para>
/// <b>Ordering rule.</b> A row changes only through a read followed by an ETag-conditional write (insert-only when
/// it does not exist yet); a write that lost a race (412, or 409 on insert) changes nothing, and the writer reads again
/// and recomputes. So every change is computed from the row as it stands and no two changes are computed from the
/// same row: the allocations can only sum to at most the quota, whatever the concurrency, because every grant is
/// checked against the sum in the very version it replaces. A writer changes only its own entry's allocation and
/// report; it may also reclaim another writer's entry, and only once that entry's lease has expired: the dead
/// writer's allocation is cut to what it is known to have used (the larger of its last report and its month row in
/// the usage table), and the entry stays (not live) so that writer can never be counted twice or start over.
/// </para>
/// </summary>
public sealed class QuotaLeases
{
    public const string TableName = "QuotaLeases";

    private readonly TableClient _table;
    private readonly UsageTable _usage;
    private readonly TimeProvider _time;
    private readonly TimeSpan _leaseTimeout;
    private Task? _created;
    private long _reads;
    private long _writes;
    private long _conflicts;

    public QuotaLeases(GatewayTables tables, UsageTable usage, IOptions<GatewayOptions> options, TimeProvider time)
    {
        _table = tables.Table(TableName);
        _usage = usage;
        _time = time;
        _leaseTimeout = options.Value.Quotas.Leases.LeaseTimeout;
    }

    /// <summary>Lease rows read (each lease, renewal or return reads one).</summary>
    public long Reads => Volatile.Read(ref _reads);

    /// <summary>Lease rows written (inserted or replaced), conflicts included.</summary>
    public long Writes => Volatile.Read(ref _writes);

    /// <summary>Writes refused because another writer changed the row first (412/409), each followed by a re-read.</summary>
    public long Conflicts => Volatile.Read(ref _conflicts);

    /// <summary>
    /// Reports <paramref name="used"/> (this writer's month count), renews this writer's lease for one lease timeout,
    /// reclaims expired leases of other writers, and adds up to <paramref name="want"/> calls to this writer's allocation:
    /// min(want, remaining ÷ (2 × live writers)), at least 1 while anything remains. <paramref name="want"/> 0 only renews.
    /// </summary>
    public async Task<LeaseGrant> AcquireAsync(string customerId, string keyId, int month, long quota, string writer, long used, long want, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken);
        while (true)
        {
            var row = await ReadAsync(customerId, keyId, month, cancellationToken);
            var nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
            if (row.ETag is null)
            {
                // A new row starts from what other writers stored this month (calls admitted before leases were on).
                row.Seed = await _usage.ReadMonthTotalAsync(customerId, keyId, month, writer, cancellationToken);
            }

            foreach (var other in row.Entries)
            {
                if (other.Writer != writer && other.ExpiresAt != 0 && other.ExpiresAt <= nowMs)
                {
                    var stored = await _usage.ReadMonthRowAsync(customerId, keyId, month, other.Writer, cancellationToken);
                    other.Allocation = Math.Min(other.Allocation, Math.Max(other.Used, stored));
                    other.Used = other.Allocation;
                    other.ExpiresAt = 0;
                }
            }

            var mine = row.Entries.Find(e => e.Writer == writer);
            if (mine is null)
            {
                mine = new LeaseEntry { Writer = writer, Allocation = used };
                row.Entries.Add(mine);
            }

            mine.Used = used;
            mine.Allocation = Math.Max(mine.Allocation, used);
            mine.ExpiresAt = nowMs + (long)_leaseTimeout.TotalMilliseconds;
            row.FoldOldEntries(mine, nowMs);

            var remaining = Math.Max(0, quota - row.Allocated);
            var live = row.Entries.Count(e => e.ExpiresAt > nowMs);
            var granted = want <= 0 ? 0 : Math.Min(remaining, Math.Min(want, Math.Max(1, remaining / (2 * live))));
            mine.Allocation += granted;

            if (await TryWriteAsync(customerId, keyId, month, quota, row, cancellationToken))
            {
                return new LeaseGrant(mine.Allocation, granted, remaining - granted);
            }
        }
    }

    /// <summary>
    /// Returns what this writer has not used: its allocation becomes <paramref name="used"/> and its lease ends (graceful
    /// shutdown, or an idle block). The caller must have stopped admitting from the block before it read <paramref name="used"/>.
    /// </summary>
    public async Task ReleaseAsync(string customerId, string keyId, int month, string writer, long used, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken);
        while (true)
        {
            var row = await ReadAsync(customerId, keyId, month, cancellationToken);
            var mine = row.Entries.Find(e => e.Writer == writer);
            if (row.ETag is null || mine is null)
            {
                return;
            }

            mine.Allocation = Math.Max(0, used);
            mine.Used = mine.Allocation;
            mine.ExpiresAt = 0;
            if (await TryWriteAsync(customerId, keyId, month, row.Quota, row, cancellationToken))
            {
                return;
            }
        }
    }

    /// <summary>The row as stored, for tests and operators: seed, and each writer's allocation, report and expiry.</summary>
    public async Task<LeaseRow> ReadAsync(string customerId, string keyId, int month, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _reads);
        var response = await _table.GetEntityIfExistsAsync<TableEntity>(customerId, RowKey(keyId, month), cancellationToken: cancellationToken);
        if (!response.HasValue)
        {
            return new LeaseRow();
        }

        var entity = response.Value!;
        return new LeaseRow
        {
            ETag = entity.ETag,
            Seed = entity.GetInt64("Seed") ?? 0,
            Quota = entity.GetInt64("Quota") ?? 0,
            Entries = JsonSerializer.Deserialize<List<LeaseEntry>>(entity.GetString("Leases") ?? "[]") ?? [],
        };
    }

    /// <summary>Creates the table once per process; a failed attempt is tried again by the next call.</summary>
    private async Task EnsureCreatedAsync(CancellationToken cancellationToken)
    {
        var created = _created ??= _table.CreateIfNotExistsAsync(CancellationToken.None);
        try
        {
            await created.WaitAsync(cancellationToken);
        }
        catch
        {
            _ = Interlocked.CompareExchange(ref _created, null, created);
            throw;
        }
    }

    private async Task<bool> TryWriteAsync(string customerId, string keyId, int month, long quota, LeaseRow row, CancellationToken cancellationToken)
    {
        var entity = new TableEntity(customerId, RowKey(keyId, month))
        {
            ["Seed"] = row.Seed,
            ["Quota"] = quota,
            ["Leases"] = JsonSerializer.Serialize(row.Entries),
        };
        Interlocked.Increment(ref _writes);
        try
        {
            if (row.ETag is { } etag)
            {
                await _table.UpdateEntityAsync(entity, etag, TableUpdateMode.Replace, cancellationToken);
            }
            else
            {
                await _table.AddEntityAsync(entity, cancellationToken);
            }

            return true;
        }
        catch (RequestFailedException e) when (e.Status is 412 or 409)
        {
            Interlocked.Increment(ref _conflicts);
            return false;
        }
    }

    private static string RowKey(string keyId, int month) => $"{keyId}|{UsageCalendar.MonthText(month)}";
}

/// <summary>One key's month in the quota leases table (see <see cref="QuotaLeases"/>).</summary>
public sealed class LeaseRow
{
    /// <summary>The version read; null when the row does not exist yet.</summary>
    public ETag? ETag { get; init; }

    /// <summary>Calls allocated outside the entries: stored before the row existed, and entries folded away.</summary>
    public long Seed { get; set; }

    /// <summary>The quota of the last writer to change the row (informational).</summary>
    public long Quota { get; init; }

    public List<LeaseEntry> Entries { get; init; } = [];

    /// <summary>Every call allocated: the seed and every writer's allocation, live or not.</summary>
    public long Allocated => Seed + Entries.Sum(e => e.Allocation);

    internal void FoldOldEntries(LeaseEntry mine, long nowMs)
    {
        if (Entries.Count <= MaxEntriesBeforeFold)
        {
            return;
        }

        foreach (var old in Entries.Where(e => e != mine && e.ExpiresAt <= nowMs).ToList())
        {
            Seed += old.Allocation;
            Entries.Remove(old);
        }
    }

    /// <summary>Above this many entries, entries no longer live are folded into <see cref="Seed"/> (a folded writer that comes back is counted twice: safe).</summary>
    private const int MaxEntriesBeforeFold = 256;
}

/// <summary>One writer's lease on a key's month.</summary>
public sealed class LeaseEntry
{
    [System.Text.Json.Serialization.JsonPropertyName("w")]
    public string Writer { get; set; } = "";

    /// <summary>The calls this writer may have admitted in total this month.</summary>
    [System.Text.Json.Serialization.JsonPropertyName("a")]
    public long Allocation { get; set; }

    /// <summary>This writer's month count when it last wrote the row.</summary>
    [System.Text.Json.Serialization.JsonPropertyName("u")]
    public long Used { get; set; }

    /// <summary>When the lease ends (Unix ms, UTC); 0: not live (returned, or reclaimed after it expired).</summary>
    [System.Text.Json.Serialization.JsonPropertyName("e")]
    public long ExpiresAt { get; set; }
}
