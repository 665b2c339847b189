using System.Globalization;
using Azure.Data.Tables;

namespace Gateway.Compliance;

/// <summary>A canary a key received: which key and customer, on which UTC day, from which route.</summary>
public sealed record CanaryDelivery(string CanaryId, string KeyId, string CustomerId, string RouteId, DateOnly Day);

/// <summary>
/// The canary registry (table <c>ComplianceCanaries</c>; partition: canary id; row: key id): one row per canary a
/// response carried, so "who received canary X" is one partition read and exact (a canary id is the HMAC of one key
/// and one day; a row exists only once a response carried it).
/// </summary>
public sealed class CanaryTable(ComplianceTables tables)
{
    public async Task WriteAsync(Canary canary, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(ComplianceTables.Canaries);
        await table.UpsertEntityAsync(
            new TableEntity(canary.Id, canary.KeyId)
            {
                ["CustomerId"] = canary.CustomerId,
                ["RouteId"] = canary.RouteId,
                ["Day"] = DateOnly.FromDayNumber((int)canary.Day).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            },
            TableUpdateMode.Replace,
            cancellationToken);
    }

    /// <summary>The keys that received the canary (one, unless two HMACs collide); empty for an id no response carried.</summary>
    public async Task<IReadOnlyList<CanaryDelivery>> FindAsync(string canaryId, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(ComplianceTables.Canaries);
        var found = new List<CanaryDelivery>();
        await foreach (var e in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {canaryId}"), cancellationToken: cancellationToken))
        {
            found.Add(new(canaryId, e.RowKey, e.GetString("CustomerId"), e.GetString("RouteId"), DateOnly.ParseExact(e.GetString("Day"), "yyyy-MM-dd", CultureInfo.InvariantCulture)));
        }

        return found;
    }
}
