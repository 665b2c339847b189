using System.Collections.Concurrent;
using Gateway.Core.Keys;
using Gateway.Core.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// The real <see cref="TableApiKeyStore"/> (against Azurite), with one seam: a test can hold the reads of a key id
/// between "storage answered" and "the verifier gets the record", the window in which a key change can overtake
/// a read. Everything else passes straight through.
/// </summary>
public sealed class PausingApiKeyStore(IApiKeyStore inner) : IApiKeyStore
{
    private readonly ConcurrentDictionary<string, ReadHold> _holds = new(StringComparer.Ordinal);

    /// <summary>Registers the store (over the real one) so the gateway's verifier and admin API both use it.</summary>
    public static void Register(IServiceCollection services)
    {
        services.AddSingleton(sp => new PausingApiKeyStore(new TableApiKeyStore(sp.GetRequiredService<GatewayTables>())));
        services.AddSingleton<IApiKeyStore>(sp => sp.GetRequiredService<PausingApiKeyStore>());
    }

    /// <summary>From now on reads of <paramref name="keyId"/> wait, once storage has answered, until the hold is released.</summary>
    public ReadHold Hold(string keyId)
    {
        var hold = new ReadHold();
        _holds[keyId] = hold;
        return hold;
    }

    public async Task<ApiKeyRecord?> FindAsync(string keyId, CancellationToken cancellationToken)
    {
        var record = await inner.FindAsync(keyId, cancellationToken);
        if (_holds.TryGetValue(keyId, out var hold))
        {
            hold.Answer(record);
            await hold.Released.WaitAsync(cancellationToken);
        }

        return record;
    }

    public Task AddAsync(ApiKeyRecord key, CancellationToken cancellationToken) => inner.AddAsync(key, cancellationToken);

    public Task<IReadOnlyList<ApiKeyRecord>> ListByCustomerAsync(string customerId, CancellationToken cancellationToken) =>
        inner.ListByCustomerAsync(customerId, cancellationToken);

    public Task<ApiKeyRecord?> SetStatusAsync(string keyId, ApiKeyStatus status, DateTimeOffset at, CancellationToken cancellationToken) =>
        inner.SetStatusAsync(keyId, status, at, cancellationToken);

    public Task<ApiKeyRecord?> ChangeAsync(string keyId, Func<ApiKeyRecord, ApiKeyRecord?> change, CancellationToken cancellationToken) =>
        inner.ChangeAsync(keyId, change, cancellationToken);

    public IAsyncEnumerable<ApiKeyRecord> ListLapsedAsync(DateTimeOffset until, CancellationToken cancellationToken) =>
        inner.ListLapsedAsync(until, cancellationToken);

    public Task AddManyAsync(IReadOnlyList<ApiKeyRecord> keys, CancellationToken cancellationToken) => inner.AddManyAsync(keys, cancellationToken);

    public Task<KeyPage> ListPageByCustomerAsync(string customerId, string? afterKeyId, int pageSize, CancellationToken cancellationToken) =>
        inner.ListPageByCustomerAsync(customerId, afterKeyId, pageSize, cancellationToken);

    /// <summary>Held reads of one key id. Once released, later reads pass straight through.</summary>
    public sealed class ReadHold
    {
        private readonly TaskCompletionSource<ApiKeyRecord?> _answered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes with the record of the first read storage answered (while that read is held).</summary>
        public Task<ApiKeyRecord?> Answered => _answered.Task;

        internal Task Released => _released.Task;

        public void Release() => _released.TrySetResult();

        internal void Answer(ApiKeyRecord? record) => _answered.TrySetResult(record);
    }
}
