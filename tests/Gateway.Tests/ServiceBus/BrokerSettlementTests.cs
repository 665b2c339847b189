using Azure.Messaging.ServiceBus;
using Gateway.ServiceBusBroker;
using Gateway.ServiceBusBroker.Entities;
using Gateway.Tests.Infrastructure;
using static Gateway.Tests.ServiceBus.BrokerClient;

namespace Gateway.Tests.ServiceBus;

/// <summary>Abandon, dead-letter and the delivery limit, through the official client.</summary>
public sealed class BrokerSettlementTests
{
    [Fact]
    public async Task AbandonedMessage_IsRedelivered_WithDeliveryCount2()
    {
        var cancellation = Deadline();
        await using var broker = await ServiceBusTestBroker.StartAsync(new BrokerOptions { Queues = { "orders" } });
        await using var client = Connect(broker);
        await using var sender = client.CreateSender("orders");
        await using var receiver = client.CreateReceiver("orders");
        await sender.SendMessageAsync(new ServiceBusMessage("retry me") { MessageId = "a-1" }, cancellation);

        var first = await receiver.ReceiveOneAsync(cancellation);
        await receiver.AbandonMessageAsync(first, new Dictionary<string, object> { ["attempt"] = 1 }, cancellation);
        var second = await receiver.ReceiveOneAsync(cancellation);

        Assert.Equal(1, first.DeliveryCount);
        Assert.Equal(2, second.DeliveryCount);
        Assert.Equal("a-1", second.MessageId);
        Assert.Equal(first.SequenceNumber, second.SequenceNumber);
        Assert.NotEqual(first.LockToken, second.LockToken);
        Assert.Equal(1, second.ApplicationProperties["attempt"]);
        await receiver.CompleteMessageAsync(second, cancellation);
        Assert.Null(await receiver.ReceiveMessageAsync(Silence, cancellation));
    }

    [Fact]
    public async Task DeadLetteredMessage_IsReceivedFromTheDeadLetterQueue_WithReasonAndDescription()
    {
        var cancellation = Deadline();
        await using var broker = await ServiceBusTestBroker.StartAsync(new BrokerOptions { Queues = { "orders" } });
        await using var client = Connect(broker);
        await using var sender = client.CreateSender("orders");
        await using var receiver = client.CreateReceiver("orders");
        await using var deadLetters = client.CreateReceiver("orders", new ServiceBusReceiverOptions { SubQueue = SubQueue.DeadLetter });
        await sender.SendMessageAsync(new ServiceBusMessage("poison") { MessageId = "p-1" }, cancellation);

        var received = await receiver.ReceiveOneAsync(cancellation);
        await receiver.DeadLetterMessageAsync(received, "BadFormat", "The body is not JSON.", cancellation);
        var dead = await deadLetters.ReceiveOneAsync(cancellation);

        Assert.Equal("poison", dead.Body.ToString());
        Assert.Equal("p-1", dead.MessageId);
        Assert.Equal("BadFormat", dead.DeadLetterReason);
        Assert.Equal("The body is not JSON.", dead.DeadLetterErrorDescription);
        Assert.Equal("orders", dead.DeadLetterSource);
        await deadLetters.CompleteMessageAsync(dead, cancellation);
        Assert.Null(await receiver.ReceiveMessageAsync(Silence, cancellation));
        Assert.Null(await deadLetters.ReceiveMessageAsync(Silence, cancellation));
    }

    [Fact]
    public async Task MessageAbandonedMaxDeliveryCountTimes_GoesToTheDeadLetterQueue()
    {
        var cancellation = Deadline();
        await using var broker = await ServiceBusTestBroker.StartAsync(new BrokerOptions { Queues = { "orders" }, MaxDeliveryCount = 3 });
        await using var client = Connect(broker);
        await using var sender = client.CreateSender("orders");
        await using var receiver = client.CreateReceiver("orders");
        await using var deadLetters = client.CreateReceiver("orders", new ServiceBusReceiverOptions { SubQueue = SubQueue.DeadLetter });
        await sender.SendMessageAsync(new ServiceBusMessage("always fails"), cancellation);

        var deliveryCounts = new List<int>();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var message = await receiver.ReceiveOneAsync(cancellation);
            deliveryCounts.Add(message.DeliveryCount);
            await receiver.AbandonMessageAsync(message, cancellationToken: cancellation);
        }

        Assert.Equal([1, 2, 3], deliveryCounts);
        Assert.Null(await receiver.ReceiveMessageAsync(Silence, cancellation));
        var dead = await deadLetters.ReceiveOneAsync(cancellation);
        Assert.Equal("always fails", dead.Body.ToString());
        Assert.Equal(MessageQueue.MaxDeliveryCountExceeded, dead.DeadLetterReason);
    }

    [Fact]
    public async Task SubscriptionDeadLetterQueue_HoldsWhatThatSubscriptionDeadLettered_Only()
    {
        var cancellation = Deadline();
        await using var broker = await ServiceBusTestBroker.StartAsync(new BrokerOptions { Subscriptions = { "t/a", "t/b" } });
        await using var client = Connect(broker);
        await using var sender = client.CreateSender("t");
        await using var a = client.CreateReceiver("t", "a");
        await using var aDead = client.CreateReceiver("t", "a", new ServiceBusReceiverOptions { SubQueue = SubQueue.DeadLetter });
        await using var bDead = client.CreateReceiver("t", "b", new ServiceBusReceiverOptions { SubQueue = SubQueue.DeadLetter });
        await sender.SendMessageAsync(new ServiceBusMessage("x"), cancellation);

        await a.DeadLetterMessageAsync(await a.ReceiveOneAsync(cancellation), "Rejected", cancellationToken: cancellation);

        var dead = await aDead.ReceiveOneAsync(cancellation);
        Assert.Equal("t/Subscriptions/a", dead.DeadLetterSource);
        Assert.Null(await bDead.ReceiveMessageAsync(Silence, cancellation));
    }

    [Fact]
    public async Task Deferral_IsNotEmulated_RaisesNotSupported_AndTheMessageStaysLocked()
    {
        var cancellation = Deadline();
        await using var broker = await ServiceBusTestBroker.StartAsync(new BrokerOptions { Queues = { "orders" } });
        await using var client = Connect(broker);
        await using var sender = client.CreateSender("orders");
        await using var receiver = client.CreateReceiver("orders");
        await sender.SendMessageAsync(new ServiceBusMessage("later"), cancellation);
        var message = await receiver.ReceiveOneAsync(cancellation);

        await Assert.ThrowsAsync<NotSupportedException>(() => receiver.DeferMessageAsync(message, cancellationToken: cancellation));

        Assert.Equal(1, broker.Entities.FindQueue("orders")!.Messages.LockedCount);
        await receiver.CompleteMessageAsync(message, cancellation);
    }

    [Fact]
    public async Task SessionReceiver_IsNotEmulated_AndIsRefused()
    {
        var cancellation = Deadline();
        await using var broker = await ServiceBusTestBroker.StartAsync(new BrokerOptions { Queues = { "orders" } });
        await using var client = Connect(broker);

        await Assert.ThrowsAsync<NotSupportedException>(() => client.AcceptSessionAsync("orders", "session-1", cancellationToken: cancellation));
    }

    [Fact]
    public async Task PeekAndSchedule_AreNotEmulated_AndRaiseNotSupported()
    {
        var cancellation = Deadline();
        await using var broker = await ServiceBusTestBroker.StartAsync(new BrokerOptions { Queues = { "orders" } });
        await using var client = Connect(broker);
        await using var sender = client.CreateSender("orders");
        await using var receiver = client.CreateReceiver("orders");

        await Assert.ThrowsAsync<NotSupportedException>(() => receiver.PeekMessageAsync(cancellationToken: cancellation));
        await Assert.ThrowsAsync<NotSupportedException>(() => sender.ScheduleMessageAsync(new ServiceBusMessage("x"), TestClock.RunStart, cancellation));
    }
}
