using System.Globalization;
using System.Runtime.InteropServices;
using Azure.Data.Tables;

namespace Gateway.Compliance;

/// <summary>A key's evidence over some hours, merged across writers: the input of detection.</summary>
public sealed record KeyEvidence(string KeyId, string CustomerId, string Plan, IReadOnlyList<HourEvidence> Hours);

/// <summary>
/// The evidence table: one row per key, UTC hour and writer (partition: key id; row: <c>{hour:D10}-{writer}</c>),
/// holding that writer's totals for the cell. Sets are stored as packed 64-bit hashes.
/// </summary>
public sealed class EvidenceTable(ComplianceTables tables)
{
    public async Task WriteAsync(string keyId, string customerId, string plan, string writer, HourEvidence evidence, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(ComplianceTables.Evidence);
        var entity = new TableEntity(keyId, $"{evidence.Hour.ToString("D10", CultureInfo.InvariantCulture)}-{writer}")
        {
            ["CustomerId"] = customerId,
            ["Plan"] = plan,
            ["Hour"] = evidence.Hour,
            ["Calls"] = evidence.Calls,
            ["UnlicensedRoute"] = evidence.UnlicensedRoute,
            ["AfterRevocation"] = evidence.AfterRevocation,
            ["QuotaRefusals"] = evidence.QuotaRefusals,
            ["Networks"] = Pack(evidence.Networks),
            ["NetworksSaturated"] = evidence.NetworksSaturated,
            ["UserAgents"] = Pack(evidence.UserAgents),
            ["UserAgentsSaturated"] = evidence.UserAgentsSaturated,
        };
        await table.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken);
    }

    /// <summary>Every key's evidence from <paramref name="fromHour"/> on (inclusive), writers merged, hours in order.</summary>
    public async Task<IReadOnlyList<KeyEvidence>> ReadAsync(long fromHour, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(ComplianceTables.Evidence);
        var byKey = new Dictionary<string, (string CustomerId, string Plan, SortedDictionary<long, HourEvidence> Hours)>(StringComparer.Ordinal);
        await foreach (var e in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"Hour ge {fromHour}"), cancellationToken: cancellationToken))
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
                e.GetBoolean("UserAgentsSaturated") ?? false);
            if (!byKey.TryGetValue(e.PartitionKey, out var key))
            {
                key = (e.GetString("CustomerId"), e.GetString("Plan"), []);
                byKey[e.PartitionKey] = key;
            }

            key.Hours[hour.Hour] = key.Hours.TryGetValue(hour.Hour, out var other) ? other.Merge(hour) : hour;
        }

        return [.. byKey.Select(k => new KeyEvidence(k.Key, k.Value.CustomerId, k.Value.Plan, [.. k.Value.Hours.Values]))];
    }

    private static byte[] Pack(IReadOnlyCollection<ulong> values) => MemoryMarshal.AsBytes(values.ToArray().AsSpan()).ToArray();

    private static HashSet<ulong> Unpack(byte[]? bytes) => bytes is null ? [] : [.. MemoryMarshal.Cast<byte, ulong>(bytes)];
}
