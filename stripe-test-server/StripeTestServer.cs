using System.Net;
using System.Net.Sockets;
using Gateway.StripeTestServer.Http;
using Gateway.StripeTestServer.Resources;
using Gateway.StripeTestServer.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.StripeTestServer;

/// <summary>
/// A Stripe API for tests and local runs: Kestrel on loopback answering the v1 endpoints billing uses with Stripe's
/// own fixtures as shapes, checking requests as Stripe does, keeping state in memory and injecting faults on demand.
/// Point Stripe.net at it with <c>new StripeClient(new StripeClientOptions { ApiKey = "sk_test_…", ApiBase = server.ApiBase })</c>.
/// </summary>
public sealed class StripeTestServer : IAsyncDisposable
{
    private const int BindAttempts = 5;

    private readonly WebApplication _app;

    private StripeTestServer(WebApplication app, StripeState state, StripeFaults faults, string apiBase)
    {
        _app = app;
        State = state;
        Faults = faults;
        ApiBase = apiBase;
    }

    /// <summary>The base URL for Stripe.net's <c>ApiBase</c> (e.g. <c>http://127.0.0.1:54321</c>).</summary>
    public string ApiBase { get; }

    /// <summary>Everything the server holds: objects, accepted meter events, identifiers.</summary>
    public StripeState State { get; }

    /// <summary>Faults to inject into the next requests.</summary>
    public StripeFaults Faults { get; }

    /// <summary>Starts listening. With port 0 a free port is picked (and picked again if another process takes it first).</summary>
    public static async Task<StripeTestServer> StartAsync(StripeTestServerOptions? options = null)
    {
        options ??= new StripeTestServerOptions();
        var fixtures = StripeFixtures.Load(options.FixturesPath);
        for (var attempt = 1; ; attempt++)
        {
            var port = options.Port != 0 ? options.Port : FreePort(options.Host);
            var state = new StripeState(options.Time);
            var faults = new StripeFaults();
            var app = Build(options, fixtures, state, faults, port);
            try
            {
                await app.StartAsync();
                return new StripeTestServer(app, state, faults, $"http://{options.Host}:{port}");
            }
            catch (IOException) when (options.Port == 0 && attempt < BindAttempts)
            {
                // Another process bound the port between picking and listening: pick again.
                await app.DisposeAsync();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static WebApplication Build(StripeTestServerOptions options, StripeFixtures fixtures, StripeState state, StripeFaults faults, int port)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = typeof(StripeTestServer).Assembly.GetName().Name });
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Parse(options.Host), port));
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(fixtures).AddSingleton(state).AddSingleton(faults).AddSingleton<StripePipeline>();
        var app = builder.Build();
        var pipeline = app.Services.GetRequiredService<StripePipeline>();
        app.Use(pipeline.InvokeAsync);
        app.UseRouting();
        app.MapCustomers();
        app.MapCatalog();
        app.MapMeters();
        app.MapSubscriptions();
        app.MapSessions();
        app.MapInvoices();
        app.MapFallback(() => StripeErrors.Error(404, StripeErrors.InvalidRequest, null, "Unrecognized request URL. This test server emulates only the endpoints billing uses (see stripe-test-server/README.md)."));
        return app;
    }

    private static int FreePort(string host)
    {
        var probe = new TcpListener(IPAddress.TryParse(host, out var address) ? address : IPAddress.Loopback, 0);
        probe.Start();
        try
        {
            return ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        finally
        {
            probe.Stop();
        }
    }
}
