using Azure;
using Azure.Data.Tables;
using Gateway.Core.Storage;

namespace Gateway.Core.Keys;

/// <summary>Where API keys live.</summary>
public interface IApiKeyStore
{
    Task<ApiKeyRecord?> FindAsync(string keyId, CancellationToken cancellationToken);

    Task AddAsync(ApiKeyRecord key, CancellationToken cancellationToken);

    /// <summary>Adds keys of one customer, as <see cref="AddAsync"/> would one by one, in table transactions where storage allows.</summary>
    Task AddManyAsync(IReadOnlyList<ApiKeyRecord> keys, CancellationToken cancellationToken);

    Task<IReadOnlyList<ApiKeyRecord>> ListByCustomerAsync(string customerId, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="pageSize"/> of a customer's keys in id order, after <paramref name="afterKeyId"/>; the token is the last id when more follow.</summary>
    Task<KeyPage> ListPageByCustomerAsync(string customerId, string? afterKeyId, int pageSize, CancellationToken cancellationToken);

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
/// Keys in Table Storage: the record in <c>ApiKeys</c> (partition = the key id's first character, one of 62
/// shards; row = key id: a point read on a cache miss) and an index row per key in <c>ApiKeysByCustomer</c>
/// (partition = customer id). The index is written first, so a key record never exists without its index row; an
/// index row without a record is skipped when listing. The shards let keys issued together be written in table
/// transactions (about 16 per transaction for 1,000 random ids) while reads stay spread over 62 partitions.
/// </summary>
public sealed class TableApiKeyStore(GatewayTables tables) : IApiKeyStore
{
    /// <summary>The partition of a key's record.</summary>
    public static string Shard(string keyId) => keyId[..1];

    public async Task<ApiKeyRecord?> FindAsync(string keyId, CancellationToken cancellationToken)
    {
        var response = await tables.ApiKeys.GetEntityIfExistsAsync<TableEntity>(Shard(keyId), keyId, cancellationToken: cancellationToken);
        return response.HasValue ? ToRecord(response.Value!) : null;
    }

    public async Task AddAsync(ApiKeyRecord key, CancellationToken cancellationToken)
    {
        await tables.ApiKeysByCustomer.UpsertEntityAsync(new TableEntity(key.CustomerId, key.Id), TableUpdateMode.Replace, cancellationToken);
        await InsertAsync(key, cancellationToken);
    }

    /// <summary>
    /// The index rows first, in transactions of 100 (they share the customer's partition), then the records in
    /// transactions per shard, <see cref="BulkWriters"/> at a time: a record never exists without its index row.
    /// </summary>
    public async Task AddManyAsync(IReadOnlyList<ApiKeyRecord> keys, CancellationToken cancellationToken)
    {
        foreach (var customer in keys.GroupBy(k => k.CustomerId, StringComparer.Ordinal))
        {
            foreach (var chunk in customer.Chunk(100))
            {
                await tables.ApiKeysByCustomer.SubmitTransactionAsync(
                    [.. chunk.Select(k => new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity(k.CustomerId, k.Id)))],
                    cancellationToken);
            }
        }

        var transactions = keys.GroupBy(k => Shard(k.Id), StringComparer.Ordinal).SelectMany(shard => shard.Chunk(100));
        await Parallel.ForEachAsync(
            transactions,
            new ParallelOptions { MaxDegreeOfParallelism = BulkWriters, CancellationToken = cancellationToken },
            async (records, ct) =>
            {
                try
                {
                    await tables.ApiKeys.SubmitTransactionAsync([.. records.Select(k => new TableTransactionAction(TableTransactionActionType.Add, ToEntity(k)))], ct);
                }
                catch (TableTransactionFailedException e) when (e.Status == 409)
                {
                    // A retry of a transaction storage had applied (transactions are atomic: all of it or none).
                    // One by one, each of our own records counts as written and any other conflict is a fault.
                    foreach (var key in records)
                    {
                        await InsertAsync(key, ct);
                    }
                }
            });
    }

    /// <summary>Record transactions written at once by <see cref="AddManyAsync"/>.</summary>
    public const int BulkWriters = 8;

    /// <summary>
    /// Inserts a new key's record. An insert the client retried after storage had already applied it (a timeout under
    /// load) answers 409: that is our own record, told apart by its hash, and counts as written; any other 409 is a fault.
    /// </summary>
    private async Task InsertAsync(ApiKeyRecord key, CancellationToken cancellationToken)
    {
        try
        {
            await tables.ApiKeys.AddEntityAsync(ToEntity(key), cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            if (await FindAsync(key.Id, cancellationToken) is not { } stored || stored.Hash != key.Hash)
            {
                throw;
            }
        }
    }

    /// <summary>One page of the customer's index rows (in key-id order, as storage keeps them), then the records, read 16 at a time.</summary>
    public async Task<KeyPage> ListPageByCustomerAsync(string customerId, string? afterKeyId, int pageSize, CancellationToken cancellationToken)
    {
        var filter = afterKeyId is null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {customerId}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {customerId} and RowKey gt {afterKeyId}");
        var ids = new List<string>(pageSize + 1);
        await foreach (var row in tables.ApiKeysByCustomer.QueryAsync<TableEntity>(filter, maxPerPage: Math.Min(pageSize + 1, 1000), select: ["RowKey"], cancellationToken: cancellationToken))
        {
            ids.Add(row.RowKey);
            if (ids.Count > pageSize)
            {
                break;
            }
        }

        var more = ids.Count > pageSize;
        var page = more ? ids[..pageSize] : ids;
        var records = new ApiKeyRecord?[page.Count];
        await Parallel.ForAsync(0, page.Count, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (i, ct) =>
            records[i] = await FindAsync(page[i], ct));

        // An index row without a record (a write that stopped halfway) is skipped; the token still moves past it.
        return new KeyPage([.. records.OfType<ApiKeyRecord>()], more ? page[^1] : null);
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
            var response = await tables.ApiKeys.GetEntityIfExistsAsync<TableEntity>(Shard(keyId), keyId, cancellationToken: cancellationToken);
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
            var response = await tables.ApiKeys.GetEntityIfExistsAsync<TableEntity>(Shard(keyId), keyId, cancellationToken: cancellationToken);
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
        var filter = TableClient.CreateQueryFilter($"Status eq {active} and ExpiresAt le {until.UtcDateTime}");
        await foreach (var row in tables.ApiKeys.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            yield return ToRecord(row);
        }
    }

    private static TableEntity ToEntity(ApiKeyRecord key) => new(Shard(key.Id), key.Id)
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
        e.RowKey,
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
