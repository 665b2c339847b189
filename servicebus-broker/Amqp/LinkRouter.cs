using Amqp;
using Amqp.Framing;
using Amqp.Listener;
using Gateway.ServiceBusBroker.Entities;

namespace Gateway.ServiceBusBroker.Amqp;

/// <summary>
/// Decides what each attach is: a request or reply link of <c>$cbs</c> or a management node, a sender into a queue
/// or topic, or a receiver from a queue, subscription or dead-letter queue. An unknown entity is refused with
/// <c>amqp:not-found</c> (the client's MessagingEntityNotFound); transactions are refused as not implemented.
/// </summary>
internal sealed class LinkRouter(ServiceBusNamespace entities, ReplyLinks replies, ulong maxMessageSize) : ILinkProcessor
{
    /// <summary>Credit the broker grants each sender, topped up as transfers are accepted.</summary>
    private const int SenderCredit = 200;

    public void Process(AttachContext attachContext)
    {
        var attach = attachContext.Attach;
        // The client reads max-message-size from the reply and checks each send against it; echoing its own
        // ulong.MaxValue would make batch sizing overflow.
        attach.MaxMessageSize = maxMessageSize;
        if (attachContext.Link.Role)
        {
            AttachSender(attachContext, attach.Target);
        }
        else
        {
            AttachReceiver(attachContext, (attach.Source as Source)?.Address, (attach.Target as Target)?.Address);
        }
    }

    /// <summary>The client sends: requests to <c>$cbs</c> or management, or messages to an entity.</summary>
    private void AttachSender(AttachContext attachContext, object target)
    {
        if (target is not Target { Address: var address })
        {
            attachContext.Complete(new Error(ServiceBusAmqp.NotImplemented) { Description = "The test broker does not emulate transactions." });
            return;
        }

        if (address == ServiceBusAmqp.CbsAddress)
        {
            attachContext.Complete(new RequestLink(CbsRequests.Answer, replies), SenderCredit);
            return;
        }

        if (!EntityAddress.TryParse(address, out var entity))
        {
            attachContext.Complete(NotFound(address));
            return;
        }

        if (entity.IsManagement)
        {
            var queue = entities.FindMessageQueue(entity);
            if (queue is null)
            {
                attachContext.Complete(NotFound(address));
                return;
            }

            attachContext.Complete(new RequestLink(request => ManagementRequests.Answer(queue, request), replies), SenderCredit);
            return;
        }

        var sendTarget = entities.FindSendTarget(entity);
        if (sendTarget is null)
        {
            attachContext.Complete(NotFound(address));
            return;
        }

        attachContext.Complete(new IncomingMessageLink(sendTarget), SenderCredit);
    }

    /// <summary>The client receives: replies from <c>$cbs</c> or management, or messages from an entity.</summary>
    private void AttachReceiver(AttachContext attachContext, string? source, string? target)
    {
        var isRequestNode = source == ServiceBusAmqp.CbsAddress
            || (EntityAddress.TryParse(source, out var managed) && managed.IsManagement);
        if (isRequestNode)
        {
            attachContext.Complete(replies.Register(attachContext.Link, target ?? string.Empty), 0);
            return;
        }

        if (attachContext.Attach.Source is Source { FilterSet: { Count: > 0 } filters }
            && filters.Keys.Any(k => k.ToString()!.Contains("session-filter", StringComparison.Ordinal)))
        {
            attachContext.Complete(new Error(ServiceBusAmqp.NotImplemented) { Description = "The test broker does not emulate sessions." });
            return;
        }

        var queue = EntityAddress.TryParse(source, out var entity) ? entities.FindMessageQueue(entity) : null;
        if (queue is null)
        {
            attachContext.Complete(NotFound(source));
            return;
        }

        attachContext.Complete(new OutgoingMessageLink(attachContext.Link, queue), 0);
    }

    private static Error NotFound(string? address) =>
        new(ServiceBusAmqp.EntityNotFound) { Description = $"The messaging entity '{address}' could not be found." };
}
