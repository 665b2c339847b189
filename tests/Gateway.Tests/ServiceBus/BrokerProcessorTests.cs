using System.Collections.Concurrent;
using Azure.Messaging.ServiceBus;
using Gateway.ServiceBusBroker;
using static Gateway.Tests.ServiceBus.BrokerClient;

namespace Gateway.Tests.ServiceBus;

/// <summary>
/// The ServiceBusProcessor against the broker. The broker keeps real time here (its default): the processor plans
/// lock renewals against the machine's clock, so the broker's lock times must be on that clock too.
/// </summary>
public sealed class BrokerProcessorTests
{
    private const int MessageCount = 50;

    [Fact]
    public async Task Processor_WithConcurrentCalls_ProcessesEveryMessageExactlyOnce()
    {
        var cancellation = Deadline();
        await using var broker = await ServiceBusTestBroker.StartAsync(new BrokerOptions { Queues = { "work" } });
        await using var client = Connect(broker);
        await using var sender = client.CreateSender("work");
        await sender.SendMessagesAsync(
            Enumerable.Range(0, MessageCount).Select(i => new ServiceBusMessage($"job-{i}") { MessageId = $"job-{i}" }),
            cancellation);

        var processed = new ConcurrentDictionary<string, int>();
        var errors = new ConcurrentQueue<Exception>();
        var allDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var processor = client.CreateProcessor("work", new ServiceBusProcessorOptions { MaxConcurrentCalls = 4 });
        processor.ProcessMessageAsync += args =>
        {
            if (processed.AddOrUpdate(args.Message.Body.ToString(), 1, (_, n) => n + 1) == 1 && processed.Count == MessageCount)
            {
                allDone.TrySetResult();
            }

            return Task.CompletedTask;
        };
        processor.ProcessErrorAsync += args =>
        {
            errors.Enqueue(args.Exception);
            return Task.CompletedTask;
        };

        await processor.StartProcessingAsync(cancellation);
        await allDone.Task.WaitAsync(cancellation);
        await Task.Delay(Silence, cancellation);
        await processor.StopProcessingAsync(cancellation);

        Assert.Empty(errors);
        Assert.Equal(MessageCount, processed.Count);
        Assert.All(processed.Values, count => Assert.Equal(1, count));
        var queue = broker.Entities.FindQueue("work")!;
        Assert.Equal(0, queue.Messages.AvailableCount);
        Assert.Equal(0, queue.Messages.LockedCount);
    }
}
