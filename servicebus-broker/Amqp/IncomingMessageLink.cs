using Amqp.Listener;
using Gateway.ServiceBusBroker.Entities;

namespace Gateway.ServiceBusBroker.Amqp;

/// <summary>A sender's link into a queue or topic: each transfer is stored, then accepted.</summary>
internal sealed class IncomingMessageLink(ISendTarget target) : LinkEndpoint
{
    public override void OnMessage(MessageContext messageContext)
    {
        target.Send(BatchMessages.Split(messageContext.Message));
        messageContext.Complete();
    }

    public override void OnFlow(FlowContext flowContext)
    {
    }

    public override void OnDisposition(DispositionContext dispositionContext)
    {
    }
}
