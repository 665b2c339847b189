using System.Globalization;
using System.Runtime.InteropServices;
using Azure.Data.Tables;

namespace Gateway.Compliance;

/// <summary>A key's evidence over some hours, merged across writers: the input of detection.</summary>
public sealed record KeyEvidence(string KeyId, string CustomerId, string Plan, IReadOnlyList<HourEvidence> Hours);

/// <summary>One key-hour cell to write: its key, customer, plan and this writer's totals.</summary>
public sealed record EvidenceRow(string KeyId, string CustomerId, string Plan, HourEvidence Evidence);

/// <summary>
/// The evidence table: one row per key, UTC hour and writer (partition: <c>{hour:D10}-{first character of the key
/// id}</c>; row: <c>{keyId}|{writer}</c>), holding that writer's totals for the cell. Sets are stored as packed 64-bit
/// hashes.
/// </summary>
public sealed class EvidenceTable(ComplianceTables tables)
{
    /// <summary>The most rows one table transaction may hold.</summary>
    private const int MaxBatch = 100;

    /// <summary>
    /// The partition of a key's hour: the hour, then the key id's first character (one of 62 shards, as the key
    /// records), so one flush writes its rows as a few transactions per hour instead of one request per key, and a
    /// scan reads a range of hours.
    /// </summary>
    public static string PartitionKey(long hour, string keyId) => string.Create(CultureInfo.InvariantCulture, $"{hour:D10}-{keyId[0]}");

    /// <summary>
    /// Writes this writer's totals for each cell (upsert-replace), batched by partition, at most 100 rows a
    /// transaction. Rows hold cumulative totals per writer, so a batch retried after an unknown outcome writes the
    /// same values again: never double counted.
    /// </summary>
    public async Task WriteManyAsync(IReadOnlyList<EvidenceRow> rows, string writer, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(ComplianceTables.Evidence);
        foreach (var partition in rows.GroupBy(r => PartitionKey(r.Evidence.Hour, r.KeyId)))
        {
            foreach (var batch in partition.Chunk(MaxBatch))
            {
                await table.SubmitTransactionAsync(batch.Select(r => new TableTransactionAction(TableTransactionActionType.UpsertReplace, Entity(r, partition.Key, writer))), cancellationToken);
            }
        }
    }

    private static TableEntity Entity(EvidenceRow row, string partition, string writer)
    {
        var evidence = row.Evidence;
        return new TableEntity(partition, $"{row.KeyId}|{writer}")
        {
            ["KeyId"] = row.KeyId,
            ["CustomerId"] = row.CustomerId,
            ["Plan"] = row.Plan,
            ["Hour"] = evidence.Hour,
            ["Calls"] = evidence.Calls,
            ["UnlicensedRoute"] = evidence.UnlicensedRoute,
            ["AfterRevocation"] = evidence.AfterRevocation,
            ["QuotaRefusals"] = evidence.QuotaRefusals,
            ["Networks"] = Pack(evidence.Networks),
            ["NetworksSaturated"] = evidence.NetworksSaturated,
            ["UserAgents"] = Pack(evidence.UserAgents),
            ["UserAgentsSaturated"] = evidence.UserAgentsSaturated,
            ["Records"] = evidence.Records,
            ["DistinctRecords"] = evidence.DistinctRecords?.ToBytes(),
        };
    }

    /// <summary>Every key's evidence from <paramref name="fromHour"/> on (inclusive), writers merged, hours in order.</summary>
    public async Task<IReadOnlyList<KeyEvidence>> ReadAsync(long fromHour, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(ComplianceTables.Evidence);
        var byKey = new Dictionary<string, (string CustomerId, string Plan, SortedDictionary<long, HourEvidence> Hours)>(StringComparer.Ordinal);
        var low = fromHour.ToString("D10", CultureInfo.InvariantCulture);
        await foreach (var e in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey ge {low}"), cancellationToken: cancellationToken))
        {
            var hour = new HourEvidence(
                e.GetInt64("Hour") ?? 0,
                e.GetInt64("Calls") ?? 0,
                e.GetInt64("UnlicensedRoute") ?? 0,
                e.GetInt64("AfterRevocation") ?? 0,
                e.GetInt64("QuotaRefusals") ?? 0,
                Unpack(e.GetBinary("Networks")),
                e.GetBoolean("NetworksSaturated") ?? false,
                Unpack(e.GetBinary("UserAgents")),
                e.GetBoolean("UserAgentsSaturated") ?? false,
                e.GetInt64("Records") ?? 0,
                RecordSketch.FromBytes(e.GetBinary("DistinctRecords")));
            var keyId = e.GetString("KeyId");
            if (!byKey.TryGetValue(keyId, out var key))
            {
                key = (e.GetString("CustomerId"), e.GetString("Plan"), []);
                byKey[keyId] = key;
            }

            key.Hours[hour.Hour] = key.Hours.TryGetValue(hour.Hour, out var other) ? other.Merge(hour) : hour;
        }

        return [.. byKey.Select(k => new KeyEvidence(k.Key, k.Value.CustomerId, k.Value.Plan, [.. k.Value.Hours.Values]))];
    }

    private static byte[] Pack(IReadOnlyCollection<ulong> values) => MemoryMarshal.AsBytes(values.ToArray().AsSpan()).ToArray();

    private static HashSet<ulong> Unpack(byte[]? bytes) => bytes is null ? [] : [.. MemoryMarshal.Cast<byte, ulong>(bytes)];
}
