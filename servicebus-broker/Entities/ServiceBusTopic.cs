using System.Collections.Concurrent;

namespace Gateway.ServiceBusBroker.Entities;

/// <summary>
/// A topic: every message accepted (not a duplicate within the topic's window) is copied to every subscription that
/// exists at that moment; with no subscription it is dropped, as on Service Bus.
/// </summary>
public sealed class ServiceBusTopic : ISendTarget
{
    private readonly ConcurrentDictionary<string, ServiceBusSubscription> _subscriptions = new(StringComparer.OrdinalIgnoreCase);
    private readonly DuplicateDetection _duplicates;
    private readonly EntityRules _rules;

    public ServiceBusTopic(string name, EntityRules rules)
    {
        Name = name;
        _rules = rules;
        _duplicates = new DuplicateDetection(rules.DuplicateDetectionWindow);
    }

    public string Name { get; }

    public IReadOnlyCollection<ServiceBusSubscription> Subscriptions => [.. _subscriptions.Values];

    public ServiceBusSubscription AddSubscription(string name) =>
        _subscriptions.GetOrAdd(name, n => new ServiceBusSubscription(Name, n, _rules));

    public ServiceBusSubscription? FindSubscription(string name) => _subscriptions.GetValueOrDefault(name);

    public void Send(IReadOnlyList<IncomingMessage> messages)
    {
        var now = _rules.Time.GetUtcNow();
        foreach (var message in messages)
        {
            if (_duplicates.IsDuplicate(message.MessageId, now))
            {
                continue;
            }

            foreach (var subscription in _subscriptions.Values)
            {
                subscription.Messages.Enqueue(message);
            }
        }
    }

    internal void Sweep()
    {
        foreach (var subscription in _subscriptions.Values)
        {
            subscription.Sweep();
        }

        _duplicates.Prune(_rules.Time.GetUtcNow());
    }
}
