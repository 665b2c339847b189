namespace Gateway.ServiceBusBroker.Entities;

/// <summary>A topic subscription: a copy of every message sent to the topic (no filters), and its dead-letter sub-queue.</summary>
public sealed class ServiceBusSubscription
{
    public ServiceBusSubscription(string topicName, string name, EntityRules rules)
    {
        Name = name;
        var path = EntityAddress.SubscriptionPath(topicName, name);
        DeadLetters = new MessageQueue(EntityAddress.DeadLetterPath(path), rules, deadLetters: null);
        Messages = new MessageQueue(path, rules, DeadLetters);
    }

    public string Name { get; }

    public MessageQueue Messages { get; }

    public MessageQueue DeadLetters { get; }

    internal void Sweep()
    {
        Messages.ExpireLocks();
        DeadLetters.ExpireLocks();
    }
}
