using Microsoft.Extensions.Logging;

namespace Gateway.Core.Keys;

/// <summary>
/// Past one machine: a key change reaches this process's caches directly (as in single-node mode), then goes to the
/// <see cref="KeyChangeTopic"/>, from which every gateway instance's subscription gets it. Both hosts of the control
/// plane (the gateway's admin port and the function app, which has no cache) publish through this.
/// <para>
/// The change is already stored when it is published (the control plane stores, then publishes), so a send that
/// fails or outlasts <see cref="KeyChangeTopic.PublishTimeout"/> is logged and the call still succeeds: the other
/// instances then serve the old state for at most their <see cref="KeyOptions.CacheRefresh"/> plus one storage read.
/// The send is not tied to the caller's cancellation: a caller that hangs up after the write does not stop it.
/// </para>
/// </summary>
public sealed partial class ServiceBusKeyChangePublisher(
    IEnumerable<IKeyChangeSink> sinks,
    KeyChangeTopic topic,
    ILogger<ServiceBusKeyChangePublisher> logger) : IKeyChangePublisher
{
    public async ValueTask PublishAsync(KeyChange change, CancellationToken cancellationToken)
    {
        foreach (var sink in sinks)
        {
            sink.Apply(change);
        }

        using var timeout = new CancellationTokenSource(topic.PublishTimeout);
        try
        {
            await topic.Sender.SendMessageAsync(KeyChangeTopic.ToMessage(change), timeout.Token);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogPublishFailed(logger, change.Reason, change.KeyId, topic.Name, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publishing key change '{Reason}' of key {KeyId} to topic '{Topic}' failed; other instances see it at their next cache refresh.")]
    private static partial void LogPublishFailed(ILogger logger, string reason, string keyId, string topic, Exception exception);
}
