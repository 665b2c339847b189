namespace Gateway.ServiceBusBroker.Entities;

/// <summary>
/// An AMQP link address, read as Service Bus does: <c>/orders</c>, <c>/orders/$DeadLetterQueue</c>,
/// <c>/key-changes/Subscriptions/gateway-1</c> (and its <c>/$DeadLetterQueue</c>); a management node is the same
/// with <c>/$management</c> appended (the client sends those without the leading slash). Names are case-insensitive.
/// </summary>
public sealed record EntityAddress(string EntityName, string? SubscriptionName, bool IsDeadLetterQueue, bool IsManagement)
{
    public const string DeadLetterQueueSuffix = "$DeadLetterQueue";
    public const string ManagementSuffix = "$management";
    public const string SubscriptionsSegment = "Subscriptions";

    public static string DeadLetterPath(string entityPath) => $"{entityPath}/{DeadLetterQueueSuffix}";

    public static string SubscriptionPath(string topicName, string subscriptionName) =>
        $"{topicName}/{SubscriptionsSegment}/{subscriptionName}";

    public static bool TryParse(string? address, out EntityAddress parsed)
    {
        parsed = null!;
        if (string.IsNullOrWhiteSpace(address))
        {
            return false;
        }

        var path = Uri.TryCreate(address, UriKind.Absolute, out var uri) && uri.Scheme != Uri.UriSchemeFile
            ? uri.AbsolutePath
            : address;
        var segments = new List<string>(path.Split('/', StringSplitOptions.RemoveEmptyEntries));
        var isManagement = TakeLast(segments, ManagementSuffix);
        var isDeadLetter = TakeLast(segments, DeadLetterQueueSuffix);
        switch (segments.Count)
        {
            case 1:
                parsed = new EntityAddress(segments[0], null, isDeadLetter, isManagement);
                return true;
            case 3 when segments[1].Equals(SubscriptionsSegment, StringComparison.OrdinalIgnoreCase):
                parsed = new EntityAddress(segments[0], segments[2], isDeadLetter, isManagement);
                return true;
            default:
                return false;
        }
    }

    private static bool TakeLast(List<string> segments, string suffix)
    {
        if (segments.Count > 0 && segments[^1].Equals(suffix, StringComparison.OrdinalIgnoreCase))
        {
            segments.RemoveAt(segments.Count - 1);
            return true;
        }

        return false;
    }
}
