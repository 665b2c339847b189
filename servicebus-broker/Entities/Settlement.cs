namespace Gateway.ServiceBusBroker.Entities;

/// <summary>What a receiver decided about a locked message.</summary>
public enum SettlementKind
{
    /// <summary>Done: the message is removed (AMQP Accepted).</summary>
    Complete,

    /// <summary>Give it back: redelivered with one more delivery (AMQP Modified or Released).</summary>
    Abandon,

    /// <summary>Move it to the dead-letter sub-queue (AMQP Rejected).</summary>
    DeadLetter,
}

/// <summary>A receiver's settlement of one locked message, with the dead-letter reason and changed properties if any.</summary>
public sealed record Settlement(
    SettlementKind Kind,
    string? DeadLetterReason = null,
    string? DeadLetterDescription = null,
    IReadOnlyDictionary<string, object>? PropertiesToModify = null)
{
    public static Settlement Complete { get; } = new(SettlementKind.Complete);

    public static Settlement Abandon { get; } = new(SettlementKind.Abandon);
}

/// <summary>The answer to a settlement or a lock renewal: done, or the lock is gone (expired, settled, never given).</summary>
public enum LockOutcome
{
    Done,
    LockLost,
}
