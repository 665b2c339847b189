using Amqp.Handler;

namespace Gateway.ServiceBusBroker.Amqp;

/// <summary>
/// Makes the lock token the delivery tag of every locked delivery: the client reads the lock token from the 16-byte
/// tag (a Guid) and settles by it. AMQPNetLite would otherwise tag deliveries with a 4-byte counter.
/// </summary>
internal sealed class LockTokenTagging : IHandler
{
    public static readonly LockTokenTagging Instance = new();

    public bool CanHandle(EventId id) => id == EventId.SendDelivery;

    public void Handle(Event protocolEvent)
    {
        // AMQPNetLite also raises ReceiveDelivery after asking CanHandle(SendDelivery): look at the event id.
        if (protocolEvent.Id == EventId.SendDelivery
            && protocolEvent.Context is IDelivery delivery
            && delivery.Message is LockedDelivery { LockToken: var token }
            && token != Guid.Empty)
        {
            delivery.Tag = token.ToByteArray();
        }
    }
}
