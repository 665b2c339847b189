using Amqp;
using Amqp.Listener;

namespace Gateway.ServiceBusBroker.Amqp;

/// <summary>A client's request link to <c>$cbs</c> or a <c>$management</c> node: each request is accepted, answered, and the answer sent on the reply link.</summary>
internal sealed class RequestLink(Func<Message, Message> answer, ReplyLinks replies) : LinkEndpoint
{
    public override void OnMessage(MessageContext messageContext)
    {
        var request = messageContext.Message;
        var connection = messageContext.Link.Session.Connection;
        messageContext.Complete();
        replies.Reply(connection, request, answer(request));
    }

    public override void OnFlow(FlowContext flowContext)
    {
    }

    public override void OnDisposition(DispositionContext dispositionContext)
    {
    }
}
