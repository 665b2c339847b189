using System.Collections.Concurrent;
using Amqp;
using Amqp.Framing;
using Amqp.Listener;

namespace Gateway.ServiceBusBroker.Amqp;

/// <summary>
/// The links replies go back on. For <c>$cbs</c> and each <c>$management</c> node the client attaches a sending link
/// (requests) and a receiving link whose target is the reply-to address its requests name; replies are found by
/// connection and that address.
/// </summary>
internal sealed class ReplyLinks
{
    private readonly ConcurrentDictionary<(Connection Connection, string Address), ListenerLink> _links = new();

    public LinkEndpoint Register(ListenerLink link, string replyAddress)
    {
        var key = (link.Session.Connection, replyAddress);
        _links[key] = link;
        return new ReplyLink(() => _links.TryRemove(new KeyValuePair<(Connection, string), ListenerLink>(key, link)));
    }

    public void Reply(Connection connection, Message request, Message reply)
    {
        var replyTo = request.Properties?.ReplyTo;
        if (replyTo is null || !_links.TryGetValue((connection, replyTo), out var link))
        {
            return;
        }

        reply.Properties ??= new Properties();
        reply.Properties.SetCorrelationId(request.Properties!.GetMessageId());
        link.SendMessage(reply);
    }

    private sealed class ReplyLink(Action onClosed) : LinkEndpoint
    {
        public override void OnFlow(FlowContext flowContext)
        {
        }

        public override void OnDisposition(DispositionContext dispositionContext)
        {
        }

        public override void OnLinkClosed(ListenerLink link, Error error) => onClosed();
    }
}
