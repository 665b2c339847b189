using Azure;
using Azure.Data.Tables;
using Gateway.Core.Storage;

namespace Gateway.Core.Keys;

/// <summary>Where API keys live.</summary>
public interface IApiKeyStore
{
    Task<ApiKeyRecord?> FindAsync(string keyId, CancellationToken cancellationToken);

    Task AddAsync(ApiKeyRecord key, CancellationToken cancellationToken);

    Task<IReadOnlyList<ApiKeyRecord>> ListByCustomerAsync(string customerId, CancellationToken cancellationToken);

    Task<ApiKeyRecord?> SetStatusAsync(string keyId, ApiKeyStatus status, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>
    /// Applies <paramref name="change"/> to the stored record, conditional on the record it read (re-read and
    /// re-applied when someone else wrote meanwhile). The change answers null to leave the record as it is. Null when
    /// the key does not exist.
    /// </summary>
    Task<ApiKeyRecord?> ChangeAsync(string keyId, Func<ApiKeyRecord, ApiKeyRecord?> change, CancellationToken cancellationToken);

    /// <summary>Active keys whose rotation overlap ended at or before <paramref name="until"/> (<see cref="ApiKeyRecord.ExpiresAt"/>).</summary>
    IAsyncEnumerable<ApiKeyRecord> ListLapsedAsync(DateTimeOffset until, CancellationToken cancellationToken);
}

/// <summary>
/// Keys in Table Storage: the record in <c>ApiKeys</c> (partition = key id, a point read on a cache miss) and an
/// index row per key in <c>ApiKeysByCustomer</c> (partition = customer id). The index is written first, so a key
/// record never exists without its index row; an index row without a record is skipped when listing.
/// </summary>
public sealed class TableApiKeyStore(GatewayTables tables) : IApiKeyStore
{
    private const string RecordRowKey = "key";

    public async Task<ApiKeyRecord?> FindAsync(string keyId, CancellationToken cancellationToken)
    {
        var response = await tables.ApiKeys.GetEntityIfExistsAsync<TableEntity>(keyId, RecordRowKey, cancellationToken: cancellationToken);
        return response.HasValue ? ToRecord(response.Value!) : null;
    }

    public async Task AddAsync(ApiKeyRecord key, CancellationToken cancellationToken)
    {
        await tables.ApiKeysByCustomer.UpsertEntityAsync(new TableEntity(key.CustomerId, key.Id), TableUpdateMode.Replace, cancellationToken);
        await tables.ApiKeys.AddEntityAsync(ToEntity(key), cancellationToken);
    }

    public async Task<IReadOnlyList<ApiKeyRecord>> ListByCustomerAsync(string customerId, CancellationToken cancellationToken)
    {
        var keys = new List<ApiKeyRecord>();
        await foreach (var row in tables.ApiKeysByCustomer.QueryAsync<TableEntity>(e => e.PartitionKey == customerId, cancellationToken: cancellationToken))
        {
            if (await FindAsync(row.RowKey, cancellationToken) is { } key)
            {
                keys.Add(key);
            }
        }

        return keys;
    }

    public async Task<ApiKeyRecord?> SetStatusAsync(string keyId, ApiKeyStatus status, DateTimeOffset at, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var response = await tables.ApiKeys.GetEntityIfExistsAsync<TableEntity>(keyId, RecordRowKey, cancellationToken: cancellationToken);
            if (!response.HasValue)
            {
                return null;
            }

            var entity = response.Value!;
            var current = ToRecord(entity);
            if (current.Status == status || current.Status == ApiKeyStatus.Revoked)
            {
                return current;
            }

            entity["Status"] = status.ToString();
            entity["StatusChangedAt"] = at;
            try
            {
                await tables.ApiKeys.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Replace, cancellationToken);
                return ToRecord(entity);
            }
            catch (RequestFailedException e) when (e.Status == 412 && attempt < 5)
            {
                // Someone else changed the key meanwhile: read it again and re-apply.
            }
        }
    }

    public async Task<ApiKeyRecord?> ChangeAsync(string keyId, Func<ApiKeyRecord, ApiKeyRecord?> change, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var response = await tables.ApiKeys.GetEntityIfExistsAsync<TableEntity>(keyId, RecordRowKey, cancellationToken: cancellationToken);
            if (!response.HasValue)
            {
                return null;
            }

            var current = ToRecord(response.Value!);
            if (change(current) is not { } changed)
            {
                return current;
            }

            try
            {
                await tables.ApiKeys.UpdateEntityAsync(ToEntity(changed), response.Value!.ETag, TableUpdateMode.Replace, cancellationToken);
                return changed;
            }
            catch (RequestFailedException e) when (e.Status == 412 && attempt < 5)
            {
                // Someone else changed the key meanwhile: read it again and re-apply.
            }
        }
    }

    /// <summary>A filtered scan of the key records (one a minute, by the rotation sweep): storage answers only the lapsed ones.</summary>
    public async IAsyncEnumerable<ApiKeyRecord> ListLapsedAsync(DateTimeOffset until, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var active = nameof(ApiKeyStatus.Active);
        var filter = TableClient.CreateQueryFilter($"RowKey eq {RecordRowKey} and Status eq {active} and ExpiresAt le {until.UtcDateTime}");
        await foreach (var row in tables.ApiKeys.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            yield return ToRecord(row);
        }
    }

    private static TableEntity ToEntity(ApiKeyRecord key) => new(key.Id, RecordRowKey)
    {
        ["CustomerId"] = key.CustomerId,
        ["Plan"] = key.Plan,
        ["Status"] = key.Status.ToString(),
        ["Hash"] = key.Hash,
        ["DisplayPrefix"] = key.DisplayPrefix,
        ["CreatedAt"] = key.CreatedAt,
        ["StatusChangedAt"] = key.StatusChangedAt,
        ["Name"] = key.Name,
        ["ExpiresAt"] = key.ExpiresAt,
    };

    private static ApiKeyRecord ToRecord(TableEntity e) => new(
        e.PartitionKey,
        e.GetString("CustomerId"),
        e.GetString("Plan"),
        Enum.Parse<ApiKeyStatus>(e.GetString("Status")),
        e.GetString("Hash"),
        e.GetString("DisplayPrefix"),
        e.GetDateTimeOffset("CreatedAt") ?? default,
        e.GetDateTimeOffset("StatusChangedAt"),
        e.GetString("Name"),
        e.GetDateTimeOffset("ExpiresAt"));
}
