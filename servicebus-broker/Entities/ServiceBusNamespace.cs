using System.Collections.Concurrent;

namespace Gateway.ServiceBusBroker.Entities;

/// <summary>
/// The broker's entities: queues, topics and their subscriptions, found by link address. Entities named at start
/// always exist; with <c>createOnFirstUse</c>, a send to an unknown name creates a queue and a receive from
/// <c>topic/Subscriptions/name</c> creates the topic and the subscription. A sweep every
/// <see cref="SweepInterval"/> expires locks and forgets old MessageIds.
/// </summary>
public sealed class ServiceBusNamespace : IDisposable
{
    public static readonly TimeSpan SweepInterval = TimeSpan.FromMilliseconds(50);

    private readonly ConcurrentDictionary<string, ServiceBusQueue> _queues = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, ServiceBusTopic> _topics = new(StringComparer.OrdinalIgnoreCase);
    private readonly object _creation = new();
    private readonly EntityRules _rules;
    private readonly bool _createOnFirstUse;
    private readonly ITimer _sweep;

    public ServiceBusNamespace(EntityRules rules, bool createOnFirstUse)
    {
        _rules = rules;
        _createOnFirstUse = createOnFirstUse;
        _sweep = rules.Time.CreateTimer(_ => Sweep(), null, SweepInterval, SweepInterval);
    }

    public IReadOnlyCollection<ServiceBusQueue> Queues => [.. _queues.Values];

    public IReadOnlyCollection<ServiceBusTopic> Topics => [.. _topics.Values];

    /// <summary>Creates the queue (or returns it). A name can be a queue or a topic, not both.</summary>
    public ServiceBusQueue AddQueue(string name)
    {
        lock (_creation)
        {
            ThrowIfTaken(name, _topics, "topic");
            return _queues.GetOrAdd(name, n => new ServiceBusQueue(n, _rules));
        }
    }

    public ServiceBusTopic AddTopic(string name)
    {
        lock (_creation)
        {
            ThrowIfTaken(name, _queues, "queue");
            return _topics.GetOrAdd(name, n => new ServiceBusTopic(n, _rules));
        }
    }

    public ServiceBusSubscription AddSubscription(string topicName, string subscriptionName) =>
        AddTopic(topicName).AddSubscription(subscriptionName);

    public ServiceBusQueue? FindQueue(string name) => _queues.GetValueOrDefault(name);

    public ServiceBusTopic? FindTopic(string name) => _topics.GetValueOrDefault(name);

    /// <summary>The queue or topic a sender attaches to; null when there is none (and none may be created).</summary>
    public ISendTarget? FindSendTarget(EntityAddress address)
    {
        if (address.SubscriptionName is not null || address.IsDeadLetterQueue)
        {
            return null;
        }

        if (_topics.TryGetValue(address.EntityName, out var topic))
        {
            return topic;
        }

        if (_queues.TryGetValue(address.EntityName, out var queue))
        {
            return queue;
        }

        return _createOnFirstUse ? AddQueue(address.EntityName) : null;
    }

    /// <summary>The message queue a receiver (or a management request) addresses; null when there is none.</summary>
    public MessageQueue? FindMessageQueue(EntityAddress address)
    {
        if (address.SubscriptionName is null)
        {
            var queue = _queues.GetValueOrDefault(address.EntityName)
                ?? (_createOnFirstUse && !_topics.ContainsKey(address.EntityName) ? AddQueue(address.EntityName) : null);
            return queue is null ? null : address.IsDeadLetterQueue ? queue.DeadLetters : queue.Messages;
        }

        var subscription = _topics.GetValueOrDefault(address.EntityName)?.FindSubscription(address.SubscriptionName)
            ?? (_createOnFirstUse && !_queues.ContainsKey(address.EntityName)
                ? AddSubscription(address.EntityName, address.SubscriptionName)
                : null);
        return subscription is null ? null : address.IsDeadLetterQueue ? subscription.DeadLetters : subscription.Messages;
    }

    public void Dispose() => _sweep.Dispose();

    private void Sweep()
    {
        foreach (var queue in _queues.Values)
        {
            queue.Sweep();
        }

        foreach (var topic in _topics.Values)
        {
            topic.Sweep();
        }
    }

    private static void ThrowIfTaken<T>(string name, ConcurrentDictionary<string, T> other, string kind)
    {
        if (other.ContainsKey(name))
        {
            throw new InvalidOperationException($"'{name}' is already a {kind}.");
        }
    }
}
