using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Gateway.Proxy;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// The real gateway (the same <c>Program.Build</c> the process runs) on real Kestrel ports, in front of a
/// <see cref="TestUpstream"/>, against Azurite. Configuration is only what the test gives: a small catalog of
/// plans over three route groups (<c>alpha</c>, <c>beta</c>, <c>gamma</c>) that tests override per case.
/// </summary>
public sealed class TestGateway : IAsyncDisposable
{
    public const string AdminToken = "test-admin-token-0123456789";

    private TestGateway(WebApplication app, int dataPort, int adminPort, string tablePrefix)
    {
        App = app;
        TablePrefix = tablePrefix;
        Data = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{dataPort}/") };
        Admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{adminPort}/") };
        Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
    }

    public WebApplication App { get; }

    public IServiceProvider Services => App.Services;

    public string TablePrefix { get; }

    /// <summary>A client of the data plane (port 8080 in production).</summary>
    public HttpClient Data { get; }

    /// <summary>A client of the admin API (port 8081 in production), with the admin token.</summary>
    public HttpClient Admin { get; }

    public static Dictionary<string, string?> DefaultSettings(Azurite azurite, TestUpstream upstream, string tablePrefix) => new()
    {
        ["Gateway:Storage:ConnectionString"] = azurite.ConnectionString,
        ["Gateway:Storage:TablePrefix"] = tablePrefix,
        ["Gateway:Admin:Token"] = AdminToken,
        ["Gateway:Keys:Environment"] = "test",
        ["Gateway:Metering:FlushInterval"] = "00:00:00.200",

        // Every gateway of a test its own journal (the default is one folder per instance name under the working
        // directory, which gateways running side by side would share); a restart on the same settings finds it again.
        ["Gateway:Metering:Journal:Path"] = NewJournalPath(),

        // Every test client is one network (loopback) and some make hundreds of new keys at once; the lookup limiter's
        // own tests (Keys/KeyLookupLimitTests) set the limits they test.
        ["Gateway:Keys:UnknownKeyReadsPerSecondPerNetwork"] = "1000000",
        ["Gateway:Keys:UnknownKeyReadsPerSecond"] = "1000000",

        // Likewise for failed sign-ins, which many tests make on purpose; Admin/FailedSignInTests sets the limit it tests.
        ["Gateway:SignIn:FailedSignInsPerMinute"] = "1000000",
        ["Gateway:Plans:open:RequestsPerSecond"] = "100000",
        ["Gateway:Plans:open:Burst"] = "100000",
        ["Gateway:Plans:open:MonthlyQuota"] = "1000000",
        ["Gateway:Plans:open:OverQuota"] = "Block",
        ["Gateway:Plans:open:RouteGroups:0"] = "alpha",
        ["Gateway:Plans:open:RouteGroups:1"] = "beta",
        ["Gateway:Plans:open:RouteGroups:2"] = "gamma",
        ["Gateway:Plans:narrow:RequestsPerSecond"] = "100000",
        ["Gateway:Plans:narrow:Burst"] = "100000",
        ["Gateway:Plans:narrow:MonthlyQuota"] = "1000000",
        ["Gateway:Plans:narrow:RouteGroups:0"] = "alpha",
        ["ReverseProxy:Routes:alpha:ClusterId"] = "upstream",
        ["ReverseProxy:Routes:alpha:Match:Path"] = "/alpha/{**rest}",
        ["ReverseProxy:Routes:alpha:Metadata:RouteGroup"] = "alpha",
        ["ReverseProxy:Routes:beta:ClusterId"] = "upstream",
        ["ReverseProxy:Routes:beta:Match:Path"] = "/beta/{**rest}",
        ["ReverseProxy:Routes:beta:Metadata:RouteGroup"] = "beta",
        ["ReverseProxy:Routes:gamma:ClusterId"] = "upstream",
        ["ReverseProxy:Routes:gamma:Match:Path"] = "/gamma/{**rest}",
        ["ReverseProxy:Routes:gamma:Metadata:RouteGroup"] = "gamma",
        ["ReverseProxy:Clusters:upstream:Destinations:d1:Address"] = upstream.Address,
        ["Logging:LogLevel:Default"] = "Warning",
    };

    public static async Task<TestGateway> StartAsync(
        Azurite azurite,
        TestUpstream upstream,
        Action<Dictionary<string, string?>>? settings = null,
        string? tablePrefix = null,
        Action<IServiceCollection>? services = null)
    {
        tablePrefix ??= NewTablePrefix();
        for (var attempt = 1; ; attempt++)
        {
            var config = DefaultSettings(azurite, upstream, tablePrefix);
            settings?.Invoke(config);
            var app = Build(config, services);
            try
            {
                await app.StartAsync();
                return new TestGateway(app, int.Parse(config["Gateway:Listen:DataPort"]!), int.Parse(config["Gateway:Listen:AdminPort"]!), tablePrefix);
            }
            catch (IOException e) when (e.InnerException is AddressInUseException && attempt < 5)
            {
                // Another process bound one of the ports FreePort picked before Kestrel did: pick again.
                await app.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Builds (without starting) a gateway from exactly these settings, plus two distinct free ports if none are
    /// given, and <see cref="TestClock"/> as its clock unless <paramref name="services"/> registers another.
    /// </summary>
    public static WebApplication Build(Dictionary<string, string?> config, Action<IServiceCollection>? services = null)
    {
        var ports = FreePort.Take(2);
        config.TryAdd("Gateway:Listen:Address", "127.0.0.1");
        config.TryAdd("Gateway:Metering:Journal:Path", NewJournalPath());
        config.TryAdd("Gateway:Listen:DataPort", ports[0].ToString(System.Globalization.CultureInfo.InvariantCulture));
        config.TryAdd("Gateway:Listen:AdminPort", ports[1].ToString(System.Globalization.CultureInfo.InvariantCulture));
        return GatewayApp.Build([], builder =>
        {
            builder.Environment.EnvironmentName = "Testing";
            builder.Configuration.Sources.Clear();
            builder.Configuration.AddInMemoryCollection(config);
            builder.Logging.ClearProviders();
            builder.Services.AddSingleton<TimeProvider>(TestClock.Instance);
            services?.Invoke(builder.Services);
        });
    }

    /// <summary>A new, empty journal folder under the temp directory.</summary>
    public static string NewJournalPath() => Path.Combine(Path.GetTempPath(), "gateway-tests-journal", Guid.NewGuid().ToString("N"));

    public static string NewTablePrefix() => "t" + Guid.NewGuid().ToString("N")[..12];

    public async Task<string> CreateCustomerAsync(string name = "Acme Data Ltd")
    {
        using var response = await Admin.PostAsJsonAsync("admin/v1/customers", new { name, email = "dev@acme.test" });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    /// <summary>Issues a key and returns (key id, plaintext key).</summary>
    public async Task<(string Id, string Key)> IssueKeyAsync(string customerId, string plan = "open")
    {
        using var response = await Admin.PostAsJsonAsync("admin/v1/keys", new { customerId, plan });
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (body.GetProperty("id").GetString()!, body.GetProperty("key").GetString()!);
    }

    public async Task<JsonElement> UsageAsync(string customerId, string? query = null)
    {
        var json = await Admin.GetFromJsonAsync<JsonElement>($"admin/v1/usage?customerId={customerId}{query}");
        return json;
    }

    public static HttpRequestMessage Get(string path, string? key)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Api-Key", key);
        }

        return request;
    }

    /// <summary>Graceful stop: Kestrel drains, then the last usage flush runs.</summary>
    public Task StopAsync() => App.StopAsync();

    public async ValueTask DisposeAsync()
    {
        Data.Dispose();
        Admin.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
