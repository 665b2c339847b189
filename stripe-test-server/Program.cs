using System.Globalization;
using System.Runtime.InteropServices;
using Gateway.StripeTestServer;

// dotnet run --project stripe-test-server -- --port 12111 [--fixtures path/to/fixtures3.json]
var options = new StripeTestServerOptions { Port = 12111 };
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--port" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var port):
            options.Port = port;
            i++;
            break;
        case "--host" when i + 1 < args.Length:
            options.Host = args[++i];
            break;
        case "--fixtures" when i + 1 < args.Length:
            options.FixturesPath = args[++i];
            break;
        default:
            Console.Error.WriteLine($"Unknown argument '{args[i]}'. Usage: Gateway.StripeTestServer [--host 127.0.0.1] [--port 12111] [--fixtures fixtures3.json]");
            return 2;
    }
}

await using var server = await StripeTestServer.StartAsync(options);

// Printed last: a script (or a test) that sees this line knows the server is ready.
Console.WriteLine($"Stripe test server listening: Gateway__Stripe__ApiBase={server.ApiBase}");

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
