using Azure.Messaging.ServiceBus;
using Gateway.Core.Keys;
using Gateway.Proxy.Telemetry;

namespace Gateway.Proxy.Keys;

/// <summary>
/// Receives the key changes other hosts publish (the <see cref="KeyChangeTopic"/>, through this instance's own
/// subscription) and applies each to the key cache at once: the cached entry is dropped and the next request re-reads
/// the key from storage. Runs only when Service Bus is configured.
/// <para>
/// Ordering rule (the cache's, <see cref="ApiKeyVerifier"/>, extended to messages): a message carries no state, it
/// only makes the key be read again. A change is published after storage has it, so the read a message causes sees
/// that change or a newer one; a read that began before the message arrived cannot cache its older answer (the
/// stripe's epoch moved). A late, repeated or reordered message therefore only causes one more read of the current
/// state, and can never bring back an older one.
/// </para>
/// While Service Bus is unreachable the processor keeps retrying on its own and the gateway keeps serving; the
/// cache refresh (<c>Gateway:Keys:CacheRefresh</c>) bounds how stale an entry gets meanwhile. Changes published while
/// this instance's subscription existed wait there until it receives again.
/// </summary>
public sealed partial class KeyChangeSubscriber(
    KeyChangeTopic topic,
    IEnumerable<IKeyChangeSink> sinks,
    GatewayMetrics metrics,
    TimeProvider time,
    ILogger<KeyChangeSubscriber> logger) : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await EnsureSubscriptionAsync(stoppingToken);
        await using var processor = topic.Client.CreateProcessor(topic.Name, topic.Subscription, new ServiceBusProcessorOptions
        {
            ReceiveMode = ServiceBusReceiveMode.PeekLock,
            AutoCompleteMessages = true,
            MaxConcurrentCalls = 4,
        });
        processor.ProcessMessageAsync += ApplyAsync;
        processor.ProcessErrorAsync += LogErrorAsync;
        await processor.StartProcessingAsync(stoppingToken);
        await OpenSenderAsync(stoppingToken);
        try
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, time, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }

        await processor.StopProcessingAsync(CancellationToken.None);
    }

    /// <summary>Creates this instance's subscription if needed, retrying until Service Bus answers or the host stops.</summary>
    private async Task EnsureSubscriptionAsync(CancellationToken stoppingToken)
    {
        while (true)
        {
            try
            {
                await topic.EnsureSubscriptionAsync(stoppingToken);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException && !stoppingToken.IsCancellationRequested)
            {
                LogSubscriptionFailed(logger, topic.Subscription, topic.Name, e);
                await Task.Delay(RetryDelay, time, stoppingToken);
            }
        }
    }

    /// <summary>
    /// Opens the topic's send link now (a batch needs the link's size limit), so the first change made through this
    /// instance's admin port does not pay for the connection and token exchange before it answers. Best effort.
    /// </summary>
    private async Task OpenSenderAsync(CancellationToken stoppingToken)
    {
        try
        {
            using var batch = await topic.Sender.CreateMessageBatchAsync(stoppingToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogSenderNotOpened(logger, topic.Name, e);
        }
    }

    private async Task ApplyAsync(ProcessMessageEventArgs args)
    {
        if (KeyChangeTopic.FromMessage(args.Message) is not { } change)
        {
            await args.DeadLetterMessageAsync(args.Message, "not-a-key-change", "The body is not a key change with a valid key id.", args.CancellationToken);
            return;
        }

        foreach (var sink in sinks)
        {
            sink.Apply(change);
        }

        // Counted once every cache has dropped the key: an observer of the counter can rely on that.
        metrics.KeyChangesCounter.Add(1, new KeyValuePair<string, object?>(TelemetryNames.KeyChangeReasonTag, change.Reason));
    }

    private Task LogErrorAsync(ProcessErrorEventArgs args)
    {
        LogReceiveFailed(logger, args.EntityPath, args.ErrorSource.ToString(), args.Exception);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Creating subscription '{Subscription}' on topic '{Topic}' failed; retrying. Key changes reach this instance at its cache refresh meanwhile.")]
    private static partial void LogSubscriptionFailed(ILogger logger, string subscription, string topic, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Opening the send link to topic '{Topic}' at start failed; the first key change published from here opens it.")]
    private static partial void LogSenderNotOpened(ILogger logger, string topic, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Receiving key changes from '{EntityPath}' failed ({Source}); the processor retries. Key changes reach this instance at its cache refresh meanwhile.")]
    private static partial void LogReceiveFailed(ILogger logger, string entityPath, string source, Exception exception);
}
