namespace Gateway.ServiceBusBroker.Entities;

/// <summary>
/// A message held by a queue or subscription: the AMQP sections exactly as the sender encoded them, plus what the
/// broker adds when it delivers (sequence number, enqueued time, delivery count, dead-letter details). Immutable:
/// a change (one more failed delivery, a move to the dead-letter queue) is a new instance.
/// </summary>
public sealed record StoredMessage(
    byte[] Encoded,
    string? MessageId,
    long SequenceNumber,
    DateTimeOffset EnqueuedTime)
{
    /// <summary>Deliveries that ended without settlement (abandon, lock expiry): AMQP header delivery-count.</summary>
    public int FailedDeliveries { get; init; }

    /// <summary>Set once the message was moved to a dead-letter queue.</summary>
    public DeadLetterDetails? DeadLetter { get; init; }

    /// <summary>Application properties a receiver changed when it abandoned or dead-lettered the message.</summary>
    public IReadOnlyDictionary<string, object>? ModifiedProperties { get; init; }
}

/// <summary>Why a message is in a dead-letter queue, and the entity it came from.</summary>
public sealed record DeadLetterDetails(string? Reason, string? Description, string Source);
