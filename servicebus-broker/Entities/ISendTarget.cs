namespace Gateway.ServiceBusBroker.Entities;

/// <summary>Where a sender's messages go: a queue, or a topic that copies them to its subscriptions.</summary>
public interface ISendTarget
{
    string Name { get; }

    /// <summary>Stores the messages; duplicates within the detection window are dropped.</summary>
    void Send(IReadOnlyList<IncomingMessage> messages);
}
