namespace Gateway.Core.Keys;

/// <summary>Lifecycle of a key. Only <see cref="Active"/> keys are served.</summary>
public enum ApiKeyStatus
{
    Active,

    /// <summary>Paused for non-payment: callers get 402 until billing reactivates it.</summary>
    Suspended,

    /// <summary>Permanently disabled: callers get 401.</summary>
    Revoked,
}

/// <summary>
/// An API key as stored: the hash, never the plaintext. <see cref="Name"/> is the holder's label for it.
/// <see cref="ExpiresAt"/> is set when the key was rotated: from then on the data plane refuses it as revoked.
/// </summary>
public sealed record ApiKeyRecord(
    string Id,
    string CustomerId,
    string Plan,
    ApiKeyStatus Status,
    string Hash,
    string DisplayPrefix,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StatusChangedAt,
    string? Name = null,
    DateTimeOffset? ExpiresAt = null)
{
    /// <summary>Active or suspended, and not past its expiry: a key that counts against its plan's maximum.</summary>
    public bool IsLive(DateTimeOffset now) => Status != ApiKeyStatus.Revoked && !(ExpiresAt <= now);
}

/// <summary>What changed about a key, published to every gateway instance so caches drop stale entries.</summary>
public sealed record KeyChange(string KeyId, string CustomerId, string Reason);

/// <summary>
/// Receives key changes (in-process in single-node mode, from Service Bus past one machine). A change must be
/// applied only after storage has it: the gateway's ordering rule (a read that began before the change never
/// caches the old state) relies on that.
/// </summary>
public interface IKeyChangeSink
{
    void Apply(KeyChange change);
}

/// <summary>Announces key changes to every gateway instance.</summary>
public interface IKeyChangePublisher
{
    ValueTask PublishAsync(KeyChange change, CancellationToken cancellationToken);
}

/// <summary>Single-node mode: key changes reach the caches of this process directly.</summary>
public sealed class InProcessKeyChangePublisher(IEnumerable<IKeyChangeSink> sinks) : IKeyChangePublisher
{
    public ValueTask PublishAsync(KeyChange change, CancellationToken cancellationToken)
    {
        foreach (var sink in sinks)
        {
            sink.Apply(change);
        }

        return ValueTask.CompletedTask;
    }
}
