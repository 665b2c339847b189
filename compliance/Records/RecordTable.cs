using System.Globalization;
using System.Runtime.InteropServices;
using Azure.Data.Tables;

namespace Gateway.Compliance;

/// <summary>One writer's records for one key and day, as the records table holds them.</summary>
public sealed record DayRecordsRow(string KeyId, string CustomerId, long Day, long Records, RecordFilter Filter);

/// <summary>A key that probably received a record on a day: its customer, the records it received that day and the chance the answer is a false positive.</summary>
public sealed record RecordRecipient(string KeyId, string CustomerId, long RecordsThatDay, double FalsePositiveRate);

/// <summary>
/// The records table (<see cref="ComplianceTables.Records"/>): one row per key, UTC day and writer (partition:
/// <c>{day:D6}-{first character of the key id}</c>; row: <c>{keyId}|{writer}</c>) with that writer's records count and
/// Bloom filter for the day (each slice in binary properties of at most 60,000 bytes; the largest row is about 125 KB).
/// Rows hold the writer's totals and are upserted whole, so a repeated flush never double counts.
/// </summary>
public sealed class RecordTable(ComplianceTables tables)
{
    /// <summary>Rows per transaction: ≤ 10 rows of ≤ 125 KB (base64 on the wire) stay under the 4 MiB batch limit.</summary>
    private const int MaxBatch = 10;
    private const int MaxPropertyBytes = 60_000;

    public static string PartitionKey(long day, string keyId) => string.Create(CultureInfo.InvariantCulture, $"{day:D6}-{keyId[0]}");

    public async Task WriteManyAsync(IReadOnlyList<DayRecordsRow> rows, string writer, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(ComplianceTables.Records);
        foreach (var partition in rows.GroupBy(r => PartitionKey(r.Day, r.KeyId)))
        {
            foreach (var batch in partition.Chunk(MaxBatch))
            {
                await table.SubmitTransactionAsync(batch.Select(r => new TableTransactionAction(TableTransactionActionType.UpsertReplace, Entity(r, partition.Key, writer))), cancellationToken);
            }
        }
    }

    /// <summary>Every key whose filter for <paramref name="day"/> (UTC days since 0001-01-01, <see cref="DateOnly.DayNumber"/>) holds <paramref name="recordId"/>, writers combined.</summary>
    public async Task<IReadOnlyList<RecordRecipient>> RecipientsAsync(string recordId, long day, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(ComplianceTables.Records);
        var hash = RecordIdReader.Hash(recordId);
        var prefix = day.ToString("D6", CultureInfo.InvariantCulture);
        var byKey = new Dictionary<string, (string CustomerId, long Records, bool Contains, double NotFalse)>(StringComparer.Ordinal);
        var filter = TableClient.CreateQueryFilter($"PartitionKey gt {prefix + "-"} and PartitionKey lt {prefix + "."}");
        await foreach (var e in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            var row = FromEntity(e);
            if (row is null)
            {
                continue;
            }

            var contains = row.Filter.Contains(hash);
            var key = byKey.GetValueOrDefault(row.KeyId, (row.CustomerId, 0, false, 1.0));
            // A key is reported when any writer's filter holds the id; it is a false positive only if every one that holds it is.
            byKey[row.KeyId] = (key.CustomerId, key.Records + row.Records, key.Contains || contains, contains ? key.NotFalse * (1 - row.Filter.FalsePositiveRate()) : key.NotFalse);
        }

        return [.. byKey.Where(k => k.Value.Contains).OrderBy(k => k.Key, StringComparer.Ordinal)
            .Select(k => new RecordRecipient(k.Key, k.Value.CustomerId, k.Value.Records, Math.Round(1 - k.Value.NotFalse, 6)))];
    }

    private static TableEntity Entity(DayRecordsRow row, string partition, string writer)
    {
        var entity = new TableEntity(partition, $"{row.KeyId}|{writer}")
        {
            ["KeyId"] = row.KeyId,
            ["CustomerId"] = row.CustomerId,
            ["Day"] = row.Day,
            ["Records"] = row.Records,
            ["FilterCount"] = row.Filter.Count,
            ["Slices"] = row.Filter.Slices.Count,
        };
        for (var s = 0; s < row.Filter.Slices.Count; s++)
        {
            var bytes = MemoryMarshal.AsBytes(row.Filter.Slices[s].AsSpan());
            for (int part = 0, at = 0; at < bytes.Length; part++, at += MaxPropertyBytes)
            {
                entity[$"S{s}P{part}"] = bytes.Slice(at, Math.Min(MaxPropertyBytes, bytes.Length - at)).ToArray();
            }
        }

        return entity;
    }

    private static DayRecordsRow? FromEntity(TableEntity e)
    {
        var slices = new List<ulong[]>();
        for (var s = 0; s < (e.GetInt32("Slices") ?? 0); s++)
        {
            var bytes = new List<byte>();
            for (var part = 0; e.GetBinary($"S{s}P{part}") is { } chunk; part++)
            {
                bytes.AddRange(chunk);
            }

            slices.Add(MemoryMarshal.Cast<byte, ulong>(bytes.ToArray().AsSpan()).ToArray());
        }

        var filter = RecordFilter.FromSlices(slices, e.GetInt64("FilterCount") ?? 0);
        return filter is null ? null : new DayRecordsRow(e.GetString("KeyId"), e.GetString("CustomerId"), e.GetInt64("Day") ?? 0, e.GetInt64("Records") ?? 0, filter);
    }
}
