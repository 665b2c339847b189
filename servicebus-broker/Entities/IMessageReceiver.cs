namespace Gateway.ServiceBusBroker.Entities;

/// <summary>
/// A receiver attached to a <see cref="MessageQueue"/> (an AMQP link the broker sends on). The queue decides, under
/// its own lock, which message goes to which receiver; the receiver only transmits.
/// </summary>
public interface IMessageReceiver
{
    /// <summary>Receive-and-delete: a delivered message is gone at once, no lock is taken.</summary>
    bool SettlesOnSend { get; }

    /// <summary>Transmits the message. False when the link is gone: the queue takes the message back undelivered.</summary>
    bool TryDeliver(LockedMessage message);

    /// <summary>The receiver asked for a drain and nothing is left to send: give back the remaining credit.</summary>
    void CompleteDrain();
}
