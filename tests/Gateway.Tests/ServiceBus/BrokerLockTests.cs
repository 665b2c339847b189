using Azure.Messaging.ServiceBus;
using Gateway.ServiceBusBroker;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using static Gateway.Tests.ServiceBus.BrokerClient;

namespace Gateway.Tests.ServiceBus;

/// <summary>
/// Peek-lock expiry and renewal. The broker runs on a fake clock, so a lock expires when the test moves the clock
/// past it, never by waiting; the client does not look at lock times for these operations.
/// </summary>
public sealed class BrokerLockTests
{
    private static readonly TimeSpan LockDuration = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task RenewedLock_KeepsTheMessageLockedPastItsOriginalLock_AndCompleteSucceeds()
    {
        var cancellation = Deadline();
        var clock = new FakeTimeProvider(TestClock.RunStart);
        await using var broker = await StartAsync(clock);
        await using var client = Connect(broker);
        await using var sender = client.CreateSender("orders");
        await using var receiver = client.CreateReceiver("orders");
        await using var other = client.CreateReceiver("orders");
        await sender.SendMessageAsync(new ServiceBusMessage("long job"), cancellation);
        var message = await receiver.ReceiveOneAsync(cancellation);
        var originalLock = message.LockedUntil;

        clock.Advance(TimeSpan.FromSeconds(20));
        await receiver.RenewMessageLockAsync(message, cancellation);
        clock.Advance(TimeSpan.FromSeconds(20));

        Assert.Equal(originalLock, TestClock.RunStart + LockDuration);
        Assert.Equal(TestClock.RunStart + TimeSpan.FromSeconds(20) + LockDuration, message.LockedUntil);
        Assert.Null(await other.ReceiveMessageAsync(Silence, cancellation));
        await receiver.CompleteMessageAsync(message, cancellation);
        clock.Advance(LockDuration);
        Assert.Null(await other.ReceiveMessageAsync(Silence, cancellation));
    }

    [Fact]
    public async Task ExpiredLock_RedeliversTheMessage_AndCompletingItFailsWithMessageLockLost()
    {
        var cancellation = Deadline();
        var clock = new FakeTimeProvider(TestClock.RunStart);
        await using var broker = await StartAsync(clock);
        await using var client = Connect(broker);
        await using var sender = client.CreateSender("orders");
        await using var receiver = client.CreateReceiver("orders");
        await sender.SendMessageAsync(new ServiceBusMessage("slow"), cancellation);
        var first = await receiver.ReceiveOneAsync(cancellation);

        clock.Advance(LockDuration + TimeSpan.FromSeconds(1));
        var again = await receiver.ReceiveOneAsync(cancellation);
        var failure = await Assert.ThrowsAsync<ServiceBusException>(() => receiver.CompleteMessageAsync(first, cancellation));
        var renewal = await Assert.ThrowsAsync<ServiceBusException>(() => receiver.RenewMessageLockAsync(first, cancellation));

        Assert.Equal(ServiceBusFailureReason.MessageLockLost, failure.Reason);
        Assert.Equal(ServiceBusFailureReason.MessageLockLost, renewal.Reason);
        Assert.Equal(2, again.DeliveryCount);
        Assert.Equal(first.SequenceNumber, again.SequenceNumber);
        await receiver.CompleteMessageAsync(again, cancellation);
    }

    [Fact]
    public async Task ReceiverClosedWithoutSettling_MessageComesBackOnlyAfterTheLockExpires()
    {
        var cancellation = Deadline();
        var clock = new FakeTimeProvider(TestClock.RunStart);
        await using var broker = await StartAsync(clock);
        await using var client = Connect(broker);
        await using var sender = client.CreateSender("orders");
        await sender.SendMessageAsync(new ServiceBusMessage("orphan"), cancellation);
        var closing = client.CreateReceiver("orders");
        var first = await closing.ReceiveOneAsync(cancellation);
        await closing.DisposeAsync();

        // The look before the expiry uses a receiver of its own, closed (its credit drained) before the clock moves:
        // a receive that timed out with credit still open could take the returning message and release it (one more
        // delivery), which is the client's race, not the broker's rule this test checks.
        ServiceBusReceivedMessage? beforeExpiry;
        await using (var early = client.CreateReceiver("orders"))
        {
            beforeExpiry = await early.ReceiveMessageAsync(Silence, cancellation);
        }

        clock.Advance(LockDuration + TimeSpan.FromSeconds(1));
        await using var receiver = client.CreateReceiver("orders");
        var afterExpiry = await receiver.ReceiveOneAsync(cancellation);

        Assert.Null(beforeExpiry);
        Assert.Equal(first.SequenceNumber, afterExpiry.SequenceNumber);
        Assert.Equal(2, afterExpiry.DeliveryCount);
        await receiver.CompleteMessageAsync(afterExpiry, cancellation);
    }

    [Fact]
    public async Task MessageWhoseLockExpiresMaxDeliveryCountTimes_GoesToTheDeadLetterQueue()
    {
        var cancellation = Deadline();
        var clock = new FakeTimeProvider(TestClock.RunStart);
        await using var broker = await StartAsync(clock, maxDeliveryCount: 2);
        await using var client = Connect(broker);
        await using var sender = client.CreateSender("orders");
        await using var receiver = client.CreateReceiver("orders");
        await using var deadLetters = client.CreateReceiver("orders", new ServiceBusReceiverOptions { SubQueue = SubQueue.DeadLetter });
        await sender.SendMessageAsync(new ServiceBusMessage("crashes its consumer"), cancellation);

        await receiver.ReceiveOneAsync(cancellation);
        clock.Advance(LockDuration + TimeSpan.FromSeconds(1));
        await receiver.ReceiveOneAsync(cancellation);
        clock.Advance(LockDuration + TimeSpan.FromSeconds(1));

        Assert.Null(await receiver.ReceiveMessageAsync(Silence, cancellation));
        var dead = await deadLetters.ReceiveOneAsync(cancellation);
        Assert.Equal("crashes its consumer", dead.Body.ToString());
    }

    private static Task<ServiceBusTestBroker> StartAsync(FakeTimeProvider clock, int maxDeliveryCount = 10) =>
        ServiceBusTestBroker.StartAsync(new BrokerOptions
        {
            Queues = { "orders" },
            LockDuration = LockDuration,
            MaxDeliveryCount = maxDeliveryCount,
            Time = clock,
        });
}
