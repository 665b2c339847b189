using Amqp;
using Amqp.Framing;
using Amqp.Listener;
using Amqp.Types;
using Gateway.ServiceBusBroker.Entities;

namespace Gateway.ServiceBusBroker.Amqp;

/// <summary>
/// A receiver's link out of a queue, a subscription or a dead-letter queue: credit goes to the queue, deliveries come
/// from it, and the client's dispositions become settlements. The broker then settles the delivery itself: Accepted
/// when the settlement was applied, Rejected with <c>com.microsoft:message-lock-lost</c> when the lock was gone.
/// </summary>
internal sealed class OutgoingMessageLink : LinkEndpoint, IMessageReceiver
{
    private readonly ListenerLink _link;
    private readonly MessageQueue _queue;
    private volatile bool _closed;

    public OutgoingMessageLink(ListenerLink link, MessageQueue queue)
    {
        _link = link;
        _queue = queue;
        // AMQPNetLite reports the close before it marks unsettled deliveries Released; the flag lets those be ignored.
        link.AddClosedCallback((_, _) => _closed = true);
        queue.Attach(this);
    }

    public bool SettlesOnSend => _link.SettleOnSend;

    public bool TryDeliver(LockedMessage message)
    {
        if (_closed)
        {
            return false;
        }

        try
        {
            _link.SendMessage(LockedDelivery.From(message));
            return true;
        }
        catch (AmqpException)
        {
            return false;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    public void CompleteDrain()
    {
        if (!_closed)
        {
            _link.CompleteDrain();
        }
    }

    public override void OnFlow(FlowContext flowContext) =>
        _queue.GrantCredit(this, flowContext.Messages, flowContext.Link.IsDraining);

    public override void OnDisposition(DispositionContext dispositionContext)
    {
        if (dispositionContext.Message is not LockedDelivery { LockToken: var lockToken } delivery || lockToken == Guid.Empty)
        {
            return;
        }

        if (dispositionContext.DeliveryState is Released && _closed)
        {
            // Service Bus keeps the lock of an unsettled message when its receiver goes away, until it expires.
            return;
        }

        if (dispositionContext.DeliveryState is Modified { UndeliverableHere: true })
        {
            // Defer: not emulated. The message stays locked; the client raises NotSupportedException.
            Refuse(dispositionContext, delivery, "The test broker does not emulate deferral.");
            return;
        }

        var outcome = _queue.Settle(lockToken, ToSettlement(dispositionContext.DeliveryState));
        if (!dispositionContext.Settled)
        {
            _link.DisposeMessage(delivery, Reply(outcome), settled: true);
        }
    }

    public override void OnLinkClosed(ListenerLink link, Error error)
    {
        _closed = true;
        _queue.Detach(this);
    }

    private void Refuse(DispositionContext dispositionContext, LockedDelivery delivery, string description)
    {
        if (!dispositionContext.Settled)
        {
            _link.DisposeMessage(
                delivery,
                new Rejected { Error = new Error(ServiceBusAmqp.NotImplemented) { Description = description } },
                settled: true);
        }
    }

    internal static Outcome Reply(LockOutcome outcome) => outcome == LockOutcome.Done
        ? new Accepted()
        : new Rejected
        {
            Error = new Error(ServiceBusAmqp.MessageLockLost)
            {
                Description = "The lock supplied is invalid: it expired, or the message was already settled.",
            },
        };

    private static Settlement ToSettlement(DeliveryState? state) => state switch
    {
        Accepted => Settlement.Complete,
        Modified modified => new Settlement(SettlementKind.Abandon, PropertiesToModify: ToProperties(modified.MessageAnnotations)),
        Rejected rejected => new Settlement(
            SettlementKind.DeadLetter,
            DeadLetterReason: rejected.Error?.Info?[new Symbol(ServiceBusAmqp.DeadLetterReasonProperty)] as string,
            DeadLetterDescription: rejected.Error?.Info?[new Symbol(ServiceBusAmqp.DeadLetterDescriptionProperty)] as string,
            PropertiesToModify: ToProperties(rejected.Error?.Info, ServiceBusAmqp.DeadLetterReasonProperty, ServiceBusAmqp.DeadLetterDescriptionProperty)),
        _ => Settlement.Abandon,
    };

    /// <summary>Symbol-keyed AMQP fields as application properties (AMQPNetLite's symbol maps reject string keys).</summary>
    private static Dictionary<string, object>? ToProperties(Fields? fields, params string[] except)
    {
        if (fields is null || fields.Count == 0)
        {
            return null;
        }

        var properties = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var (key, value) in fields)
        {
            var name = key.ToString()!;
            if (!except.Contains(name, StringComparer.Ordinal) && value is not null)
            {
                properties[name] = value;
            }
        }

        return properties.Count == 0 ? null : properties;
    }
}
