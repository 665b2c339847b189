using Azure.Messaging.ServiceBus;
using Gateway.ServiceBusBroker;

namespace Gateway.Tests.ServiceBus;

/// <summary>
/// The official Azure.Messaging.ServiceBus client, pointed at a <see cref="ServiceBusTestBroker"/>, with every wait
/// bounded: a try times out after 10 s and is retried once, and each test gives up after <see cref="TestTimeout"/>.
/// </summary>
internal static class BrokerClient
{
    public static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How long a receive waits for a message that should be there.</summary>
    public static readonly TimeSpan Arrival = TimeSpan.FromSeconds(10);

    /// <summary>How long a receive waits to show that no message comes.</summary>
    public static readonly TimeSpan Silence = TimeSpan.FromSeconds(1);

    public static ServiceBusClient Connect(ServiceBusTestBroker broker) =>
        new(broker.ConnectionString, new ServiceBusClientOptions
        {
            RetryOptions = new ServiceBusRetryOptions
            {
                MaxRetries = 1,
                TryTimeout = TimeSpan.FromSeconds(10),
                Delay = TimeSpan.FromMilliseconds(100),
                MaxDelay = TimeSpan.FromMilliseconds(500),
            },
        });

    public static CancellationToken Deadline() => new CancellationTokenSource(TestTimeout).Token;

    /// <summary>Receives one message that must arrive.</summary>
    public static async Task<ServiceBusReceivedMessage> ReceiveOneAsync(this ServiceBusReceiver receiver, CancellationToken cancellationToken) =>
        await receiver.ReceiveMessageAsync(Arrival, cancellationToken)
            ?? throw new Xunit.Sdk.XunitException($"No message arrived on {receiver.EntityPath} within {Arrival}.");
}
