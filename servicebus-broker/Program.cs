using System.Runtime.InteropServices;
using Gateway.ServiceBusBroker;

// dotnet run --project servicebus-broker -- --port 5672 --topic key-changes --subscription key-changes/gateway-1
if (!BrokerCommandLine.TryParse(args, out var options, out var problem))
{
    Console.Error.WriteLine(problem);
    Console.Error.WriteLine(BrokerCommandLine.Usage);
    return problem is null ? 0 : 2;
}

await using var broker = await ServiceBusTestBroker.StartAsync(options);
Console.WriteLine($"Service Bus test broker listening on {options.Host}:{broker.Port}");
foreach (var queue in broker.Entities.Queues.OrderBy(q => q.Name, StringComparer.Ordinal))
{
    Console.WriteLine($"  queue {queue.Name}");
}

foreach (var topic in broker.Entities.Topics.OrderBy(t => t.Name, StringComparer.Ordinal))
{
    Console.WriteLine($"  topic {topic.Name}: {string.Join(", ", topic.Subscriptions.Select(s => s.Name).Order(StringComparer.Ordinal))}");
}

// Printed last: a script (or a test) that sees this line knows the broker is ready.
Console.WriteLine($"Connection string: {broker.ConnectionString}");

using var stop = new CancellationTokenSource();
void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stop.Cancel();
}

using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
try
{
    await Task.Delay(Timeout.Infinite, stop.Token);
}
catch (OperationCanceledException)
{
}

Console.WriteLine("Stopped.");
return 0;
