using Amqp;
using Amqp.Framing;
using Amqp.Types;
using Gateway.ServiceBusBroker.Entities;

namespace Gateway.ServiceBusBroker.Amqp;

/// <summary>
/// The management node of a queue, subscription or dead-letter queue (<c>entity/$management</c>): lock renewal and
/// settlement by lock token (used when the receiving link that got the message is gone). Other operations (peek,
/// schedule, defer, sessions, rules) are answered 501 not-implemented, which the client raises as NotSupportedException.
/// </summary>
internal static class ManagementRequests
{
    private const int Ok = 200;
    private const int BadRequest = 400;
    private const int Gone = 410;
    private const int NotImplemented = 501;

    public static Message Answer(MessageQueue queue, Message request)
    {
        var operation = request.ApplicationProperties?[ServiceBusAmqp.Management.Operation] as string;
        var body = request.Body as Map;
        return operation switch
        {
            ServiceBusAmqp.Management.RenewLock => RenewLock(queue, body),
            ServiceBusAmqp.Management.UpdateDisposition => UpdateDisposition(queue, body),
            _ => Reply(NotImplemented, $"The test broker does not emulate '{operation}'.", ServiceBusAmqp.NotImplemented),
        };
    }

    private static Message RenewLock(MessageQueue queue, Map? body)
    {
        var tokens = LockTokens(body);
        if (queue.RenewLocks(tokens, out var lockedUntil) == LockOutcome.LockLost)
        {
            return LockLost();
        }

        var reply = Reply(Ok, "OK", condition: null);
        reply.BodySection = new AmqpValue
        {
            Value = new Map { [ServiceBusAmqp.Management.Expirations] = lockedUntil.Select(t => t.UtcDateTime).ToArray() },
        };
        return reply;
    }

    private static Message UpdateDisposition(MessageQueue queue, Map? body)
    {
        var status = body?[ServiceBusAmqp.Management.DispositionStatus] as string;
        Settlement? settlement = status switch
        {
            "completed" => Settlement.Complete,
            "abandoned" => new Settlement(SettlementKind.Abandon, PropertiesToModify: Properties(body)),
            "suspended" => new Settlement(
                SettlementKind.DeadLetter,
                body?[ServiceBusAmqp.Management.DeadLetterReason] as string,
                body?[ServiceBusAmqp.Management.DeadLetterDescription] as string,
                Properties(body)),
            _ => null,
        };
        if (settlement is null)
        {
            return Reply(BadRequest, $"The test broker does not emulate disposition '{status}'.", ServiceBusAmqp.NotImplemented);
        }

        foreach (var token in LockTokens(body))
        {
            if (queue.Settle(token, settlement) == LockOutcome.LockLost)
            {
                return LockLost();
            }
        }

        return Reply(Ok, "OK", condition: null);
    }

    private static Guid[] LockTokens(Map? body) => body?[ServiceBusAmqp.Management.LockTokens] switch
    {
        Guid[] tokens => tokens,
        IEnumerable<object> tokens => [.. tokens.OfType<Guid>()],
        _ => [],
    };

    private static Dictionary<string, object>? Properties(Map? body) =>
        body?[ServiceBusAmqp.Management.PropertiesToModify] is Map map
            ? map.Where(p => p.Value is not null).ToDictionary(p => p.Key.ToString()!, p => p.Value)
            : null;

    private static Message LockLost() =>
        Reply(Gone, "The lock supplied is invalid: it expired, or the message was already settled.", ServiceBusAmqp.MessageLockLost);

    private static Message Reply(int status, string description, Symbol? condition)
    {
        var properties = new ApplicationProperties
        {
            [ServiceBusAmqp.Management.StatusCode] = status,
            [ServiceBusAmqp.Management.StatusDescription] = description,
        };
        if (condition is not null)
        {
            properties[ServiceBusAmqp.Management.ErrorCondition] = condition;
        }

        return new Message { ApplicationProperties = properties };
    }
}
