namespace Gateway.ServiceBusBroker.Entities;

/// <summary>The rules every entity of one broker follows (Service Bus sets them per entity; here they are broker-wide).</summary>
public sealed record EntityRules(
    TimeSpan LockDuration,
    int MaxDeliveryCount,
    TimeSpan DuplicateDetectionWindow,
    TimeProvider Time);
