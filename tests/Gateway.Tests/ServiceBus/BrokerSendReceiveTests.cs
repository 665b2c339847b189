using Azure.Messaging.ServiceBus;
using Gateway.ServiceBusBroker;
using static Gateway.Tests.ServiceBus.BrokerClient;

namespace Gateway.Tests.ServiceBus;

/// <summary>Sending, batch sending, duplicate detection and topic fan-out, through the official client.</summary>
public sealed class BrokerSendReceiveTests
{
    [Fact]
    public async Task SentMessage_ReceivedWithPeekLockAndCompleted_IsGoneFromTheQueue()
    {
        var cancellation = Deadline();
        await using var broker = await ServiceBusTestBroker.StartAsync(new BrokerOptions { Queues = { "orders" } });
        await using var client = Connect(broker);
        await using var sender = client.CreateSender("orders");
        await using var receiver = client.CreateReceiver("orders");

        await sender.SendMessageAsync(
            new ServiceBusMessage("hello") { MessageId = "m-1", Subject = "greeting", ApplicationProperties = { ["kind"] = "test" } },
            cancellation);
        var received = await receiver.ReceiveOneAsync(cancellation);

        Assert.Equal("hello", received.Body.ToString());
        Assert.Equal("m-1", received.MessageId);
        Assert.Equal("greeting", received.Subject);
        Assert.Equal("test", received.ApplicationProperties["kind"]);
        Assert.Equal(1, received.DeliveryCount);
        Assert.Equal(1, received.SequenceNumber);
        Assert.NotEqual(Guid.Empty.ToString(), received.LockToken);
        await receiver.CompleteMessageAsync(received, cancellation);

        Assert.Null(await receiver.ReceiveMessageAsync(Silence, cancellation));
        var queue = broker.Entities.FindQueue("orders")!;
        Assert.Equal(0, queue.Messages.AvailableCount);
        Assert.Equal(0, queue.Messages.LockedCount);
    }

    [Fact]
    public async Task BatchSend_OfSeveralMessages_DeliversEachOnce_InOrder()
    {
        var cancellation = Deadline();
        await using var broker = await ServiceBusTestBroker.StartAsync(new BrokerOptions { Queues = { "orders" } });
        await using var client = Connect(broker);
        await using var sender = client.CreateSender("orders");
        await using var receiver = client.CreateReceiver("orders");

        using var batch = await sender.CreateMessageBatchAsync(cancellation);
        for (var i = 0; i < 5; i++)
        {
            Assert.True(batch.TryAddMessage(new ServiceBusMessage($"body-{i}") { MessageId = $"b-{i}" }));
        }

        await sender.SendMessagesAsync(batch, cancellation);
        var bodies = new List<string>();
        while (bodies.Count < 5)
        {
            foreach (var message in await receiver.ReceiveMessagesAsync(5, Arrival, cancellation))
            {
                bodies.Add(message.Body.ToString());
                await receiver.CompleteMessageAsync(message, cancellation);
            }
        }

        Assert.Equal(["body-0", "body-1", "body-2", "body-3", "body-4"], bodies);
        Assert.Null(await receiver.ReceiveMessageAsync(Silence, cancellation));
    }

    [Fact]
    public async Task DuplicateMessageId_WithinTheWindow_IsDeliveredOnce()
    {
        var cancellation = Deadline();
        await using var broker = await ServiceBusTestBroker.StartAsync(new BrokerOptions { Queues = { "orders" } });
        await using var client = Connect(broker);
        await using var sender = client.CreateSender("orders");
        await using var receiver = client.CreateReceiver("orders");

        await sender.SendMessageAsync(new ServiceBusMessage("first") { MessageId = "same" }, cancellation);
        await sender.SendMessageAsync(new ServiceBusMessage("second") { MessageId = "same" }, cancellation);
        await sender.SendMessagesAsync([new ServiceBusMessage("third") { MessageId = "same" }, new ServiceBusMessage("other") { MessageId = "different" }], cancellation);

        var first = await receiver.ReceiveOneAsync(cancellation);
        await receiver.CompleteMessageAsync(first, cancellation);
        var other = await receiver.ReceiveOneAsync(cancellation);
        await receiver.CompleteMessageAsync(other, cancellation);

        Assert.Equal("first", first.Body.ToString());
        Assert.Equal("other", other.Body.ToString());
        Assert.Null(await receiver.ReceiveMessageAsync(Silence, cancellation));
    }

    [Fact]
    public async Task TopicMessage_WithTwoSubscriptions_ReachesBoth()
    {
        var cancellation = Deadline();
        await using var broker = await ServiceBusTestBroker.StartAsync(new BrokerOptions
        {
            Subscriptions = { "key-changes/gateway-1", "key-changes/gateway-2" },
            CreateEntitiesOnFirstUse = false,
        });
        await using var client = Connect(broker);
        await using var sender = client.CreateSender("key-changes");
        await using var first = client.CreateReceiver("key-changes", "gateway-1");
        await using var second = client.CreateReceiver("key-changes", "gateway-2");

        await sender.SendMessagesAsync([new ServiceBusMessage("revoke k1"), new ServiceBusMessage("revoke k2")], cancellation);

        foreach (var receiver in new[] { first, second })
        {
            var one = await receiver.ReceiveOneAsync(cancellation);
            var two = await receiver.ReceiveOneAsync(cancellation);
            Assert.Equal(["revoke k1", "revoke k2"], new[] { one.Body.ToString(), two.Body.ToString() });
            await receiver.CompleteMessageAsync(one, cancellation);
            await receiver.CompleteMessageAsync(two, cancellation);
            Assert.Null(await receiver.ReceiveMessageAsync(Silence, cancellation));
        }
    }

    [Fact]
    public async Task UnknownEntity_WithoutCreationOnFirstUse_IsMessagingEntityNotFound()
    {
        var cancellation = Deadline();
        await using var broker = await ServiceBusTestBroker.StartAsync(new BrokerOptions { Queues = { "orders" }, CreateEntitiesOnFirstUse = false });
        await using var client = Connect(broker);
        await using var sender = client.CreateSender("no-such-queue");

        var failure = await Assert.ThrowsAsync<ServiceBusException>(() => sender.SendMessageAsync(new ServiceBusMessage("x"), cancellation));

        Assert.Equal(ServiceBusFailureReason.MessagingEntityNotFound, failure.Reason);
    }
}
