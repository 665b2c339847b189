namespace Gateway.ServiceBusBroker;

/// <summary>How a <see cref="ServiceBusTestBroker"/> starts: where it listens, its entities, and the entity rules.</summary>
public sealed class BrokerOptions
{
    /// <summary>The address to listen on. Loopback by default: the broker accepts any token.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>The TCP port; 0 picks a free one (read it back from <see cref="ServiceBusTestBroker.Port"/>).</summary>
    public int Port { get; set; }

    /// <summary>Queues that exist from the start.</summary>
    public IList<string> Queues { get; } = [];

    /// <summary>Topics that exist from the start.</summary>
    public IList<string> Topics { get; } = [];

    /// <summary>Subscriptions that exist from the start, as <c>topic/subscription</c> (the topic is created too).</summary>
    public IList<string> Subscriptions { get; } = [];

    /// <summary>A send to an unknown name creates a queue; a receive from <c>topic/Subscriptions/name</c> creates both.</summary>
    public bool CreateEntitiesOnFirstUse { get; set; } = true;

    /// <summary>How long a peek-lock lasts from delivery or renewal (Service Bus default: 60 s).</summary>
    public TimeSpan LockDuration { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Deliveries after which a message goes to the dead-letter queue (Service Bus default: 10).</summary>
    public int MaxDeliveryCount { get; set; } = 10;

    /// <summary>How long a MessageId is remembered per queue or topic; zero turns duplicate detection off.</summary>
    public TimeSpan DuplicateDetectionWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The largest message (or batch) a sender may transfer, announced on attach (Service Bus standard tier: 256 KB).</summary>
    public ulong MaxMessageSize { get; set; } = 256 * 1024;

    /// <summary>The clock for enqueued times, locks and the duplicate window.</summary>
    public TimeProvider Time { get; set; } = TimeProvider.System;
}
