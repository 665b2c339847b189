using System.Net;
using System.Text.Json;
using Gateway.Proxy.Hosting.HealthChecks;
using Gateway.Proxy.Metering;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Hosting;

[Collection(UsesAzurite.Name)]
public sealed class HealthEndpointTests(Azurite azurite) : GatewayTest(azurite)
{
    [Fact]
    public async Task HealthEndpoints_OnBothPorts_Answer200_AndReadyListsEachCheck()
    {
        await using var gateway = await StartGatewayAsync();
        using var admin = new HttpClient { BaseAddress = gateway.Admin.BaseAddress };

        foreach (var client in new[] { gateway.Data, admin })
        {
            foreach (var path in new[] { HealthEndpoints.Alias, HealthEndpoints.Live, HealthEndpoints.Ready })
            {
                var (status, body) = await GetAsync(client, path);
                Assert.True(status == HttpStatusCode.OK, $"{client.BaseAddress}{path}: {(int)status} {body}");
                Assert.Equal("Healthy", body.GetProperty("status").GetString());
            }
        }

        var (_, live) = await GetAsync(gateway.Data, HealthEndpoints.Live);
        var (_, ready) = await GetAsync(gateway.Data, HealthEndpoints.Ready);
        Assert.Empty(live.GetProperty("checks").EnumerateObject());
        Assert.Equal(
            [(HealthEndpoints.TableStorage, "Healthy"), (HealthEndpoints.UsageFlush, "Healthy")],
            ready.GetProperty("checks").EnumerateObject().Select(c => (c.Name, c.Value.GetProperty("status").GetString())).Order());
    }

    [Fact]
    public async Task Ready_WhileCountsWaitForStorageLongerThanUnhealthyAfter_Returns503_AndLiveStays200()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await StartGatewayAsync(
            s => s["Gateway:Metering:UnhealthyAfter"] = "00:00:05",
            services: s => s.AddSingleton<TimeProvider>(time));
        var (_, key) = await gateway.IssueKeyAsync(await gateway.CreateCustomerAsync());
        using (var call = await gateway.Data.SendAsync(TestGateway.Get("alpha/1", key)))
        {
            Assert.Equal(HttpStatusCode.OK, call.StatusCode);
        }

        await CountedAsync(gateway);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(gateway.Data, HealthEndpoints.Ready)).Status);

        (HttpStatusCode Status, JsonElement Body) withinLimit, pastLimit, live;
        Azurite.Freeze();
        try
        {
            // The timer's flush hangs on frozen storage: the call's counts wait in memory.
            time.Advance(TimeSpan.FromSeconds(4));
            withinLimit = await GetAsync(gateway.Data, HealthEndpoints.Ready);
            time.Advance(TimeSpan.FromSeconds(2));
            pastLimit = await GetAsync(gateway.Data, HealthEndpoints.Ready);
            live = await GetAsync(gateway.Data, HealthEndpoints.Live);
        }
        finally
        {
            Azurite.Thaw();
        }

        Assert.Equal(HttpStatusCode.OK, withinLimit.Status);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, pastLimit.Status);
        Assert.Equal("Unhealthy", pastLimit.Body.GetProperty("status").GetString());
        Assert.Equal("Unhealthy", Check(pastLimit.Body, HealthEndpoints.UsageFlush));
        Assert.Equal("Degraded", Check(pastLimit.Body, HealthEndpoints.TableStorage));
        Assert.Equal(HttpStatusCode.OK, live.Status);

        await gateway.Services.GetRequiredService<UsageFlushService>().FlushAsync(CancellationToken.None);
        time.Advance(TableStorageHealthCheck.Reuse);
        var recovered = await GetAsync(gateway.Data, HealthEndpoints.Ready);
        Assert.True(recovered.Status == HttpStatusCode.OK, recovered.Body.ToString());
        Assert.Equal("Healthy", recovered.Body.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Ready_WithManyProbesAtOnce_ReadsStorageOnce()
    {
        await using var gateway = await StartGatewayAsync();
        var storage = gateway.Services.GetRequiredService<Gateway.Core.Storage.TableRequestCounter>();
        var before = storage.Requests;

        var statuses = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ => (await GetAsync(gateway.Data, HealthEndpoints.Ready)).Status));

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(1, storage.Requests - before);
    }

    private static string? Check(JsonElement body, string name) => body.GetProperty("checks").GetProperty(name).GetProperty("status").GetString();

    /// <summary>Calls are counted just after their response is sent.</summary>
    private static async Task CountedAsync(TestGateway gateway)
    {
        var flushes = gateway.Services.GetRequiredService<UsageFlushStatus>();
        for (var attempt = 0; attempt < 100 && flushes.DirtyCells() == 0; attempt++)
        {
            await Task.Delay(20);
        }

        Assert.NotEqual(0, flushes.DirtyCells());
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path.TrimStart('/'));
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(["nosniff"], response.Headers.GetValues("X-Content-Type-Options"));
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }
}
