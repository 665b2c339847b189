namespace Gateway.ServiceBusBroker.Entities;

/// <summary>A queue: its messages, its dead-letter sub-queue and its duplicate-detection window.</summary>
public sealed class ServiceBusQueue : ISendTarget
{
    private readonly DuplicateDetection _duplicates;
    private readonly TimeProvider _time;

    public ServiceBusQueue(string name, EntityRules rules)
    {
        Name = name;
        _time = rules.Time;
        _duplicates = new DuplicateDetection(rules.DuplicateDetectionWindow);
        DeadLetters = new MessageQueue(EntityAddress.DeadLetterPath(name), rules, deadLetters: null);
        Messages = new MessageQueue(name, rules, DeadLetters);
    }

    public string Name { get; }

    public MessageQueue Messages { get; }

    public MessageQueue DeadLetters { get; }

    public void Send(IReadOnlyList<IncomingMessage> messages)
    {
        var now = _time.GetUtcNow();
        foreach (var message in messages)
        {
            if (!_duplicates.IsDuplicate(message.MessageId, now))
            {
                Messages.Enqueue(message);
            }
        }
    }

    internal void Sweep()
    {
        Messages.ExpireLocks();
        DeadLetters.ExpireLocks();
        _duplicates.Prune(_time.GetUtcNow());
    }
}
