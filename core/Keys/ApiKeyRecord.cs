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

/// <summary>
/// What changed about a key, announced to every gateway instance so caches drop stale entries. It names the key and
/// the kind of change only: no status, plan or secret travels with it, because an instance that receives it only
/// re-reads the key from storage (so a late or repeated announcement can never bring back an older state).
/// <see cref="ChangedAt"/> is when the control plane stored the change; with <see cref="KeyId"/> and
/// <see cref="Reason"/> it identifies the change (<see cref="MessageId"/>, for Service Bus duplicate detection).
/// </summary>
public sealed record KeyChange(string KeyId, string CustomerId, string Reason, DateTimeOffset ChangedAt)
{
    /// <summary>The same for every send of one change (a retried publish is dropped as a duplicate), distinct across changes.</summary>
    public string MessageId => $"{KeyId}/{Reason}/{ChangedAt.UtcTicks}";
}

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

/// <summary>The kinds of <see cref="KeyChange"/>: what the control plane did to the key.</summary>
public static class KeyChangeReasons
{
    public const string Revoked = "revoked";
    public const string Suspended = "suspended";
    public const string Reactivated = "reactivated";
    public const string PlanChanged = "plan-changed";
    public const string Rotated = "rotated";
    public const string Renamed = "renamed";

    /// <summary>The key's customer changed its monthly spend cap (published for each of its keys).</summary>
    public const string SpendCapChanged = "spend-cap-changed";
}

/// <summary>A page of a customer's keys in id order; <see cref="ContinuationToken"/> asks for the next one (null: the last page).</summary>
public sealed record KeyPage(IReadOnlyList<ApiKeyRecord> Items, string? ContinuationToken);
