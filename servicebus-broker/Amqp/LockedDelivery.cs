using Amqp;
using Amqp.Framing;
using Gateway.ServiceBusBroker.Entities;

namespace Gateway.ServiceBusBroker.Amqp;

/// <summary>
/// A message as the broker delivers it: the sender's sections, with the header delivery-count and the annotations
/// the client needs (<c>x-opt-sequence-number</c>, <c>x-opt-enqueued-time</c>, <c>x-opt-locked-until</c>), and the
/// lock token it travels under (<see cref="LockTokenTagging"/> makes it the 16-byte delivery tag).
/// </summary>
internal sealed class LockedDelivery : Message
{
    private LockedDelivery(Guid lockToken) => LockToken = lockToken;

    public Guid LockToken { get; }

    public static LockedDelivery From(LockedMessage locked)
    {
        var stored = locked.Message;
        var decoded = Decode(new ByteBuffer(stored.Encoded, 0, stored.Encoded.Length, stored.Encoded.Length));
        var delivery = new LockedDelivery(locked.LockToken)
        {
            Header = decoded.Header ?? new Header(),
            DeliveryAnnotations = decoded.DeliveryAnnotations,
            MessageAnnotations = decoded.MessageAnnotations ?? new MessageAnnotations(),
            Properties = decoded.Properties,
            ApplicationProperties = decoded.ApplicationProperties,
            BodySection = decoded.BodySection,
            Footer = decoded.Footer,
        };
        delivery.Header.DeliveryCount = (uint)stored.FailedDeliveries;

        var annotations = delivery.MessageAnnotations;
        annotations[ServiceBusAmqp.SequenceNumber] = stored.SequenceNumber;
        annotations[ServiceBusAmqp.EnqueuedTime] = stored.EnqueuedTime.UtcDateTime;
        if (locked.IsLocked)
        {
            annotations[ServiceBusAmqp.LockedUntil] = locked.LockedUntil.UtcDateTime;
            annotations[ServiceBusAmqp.LockToken] = locked.LockToken;
        }

        if (stored.ModifiedProperties is { Count: > 0 } || stored.DeadLetter is not null)
        {
            delivery.ApplicationProperties ??= new ApplicationProperties();
        }

        foreach (var (key, value) in stored.ModifiedProperties ?? new Dictionary<string, object>())
        {
            delivery.ApplicationProperties[key] = value;
        }

        if (stored.DeadLetter is { } deadLetter)
        {
            annotations[ServiceBusAmqp.DeadLetterSource] = deadLetter.Source;
            if (deadLetter.Reason is not null)
            {
                delivery.ApplicationProperties[ServiceBusAmqp.DeadLetterReasonProperty] = deadLetter.Reason;
            }

            if (deadLetter.Description is not null)
            {
                delivery.ApplicationProperties[ServiceBusAmqp.DeadLetterDescriptionProperty] = deadLetter.Description;
            }
        }

        return delivery;
    }
}
