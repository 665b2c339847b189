using Amqp;
using Amqp.Framing;

namespace Gateway.ServiceBusBroker.Amqp;

/// <summary>
/// Claims-based security: the client puts a SAS token for each entity before attaching to it, and renews it. Every
/// put-token is accepted (status-code 202, an int, as the client requires); the token is not checked.
/// </summary>
internal static class CbsRequests
{
    public static Message Answer(Message request)
    {
        var operation = request.ApplicationProperties?[ServiceBusAmqp.Management.Operation] as string;
        var (status, description) = operation == ServiceBusAmqp.Cbs.PutToken ? (202, "Accepted") : (400, $"Unknown CBS operation '{operation}'.");
        return new Message
        {
            ApplicationProperties = new ApplicationProperties
            {
                [ServiceBusAmqp.Cbs.StatusCode] = status,
                [ServiceBusAmqp.Cbs.StatusDescription] = description,
            },
        };
    }
}
