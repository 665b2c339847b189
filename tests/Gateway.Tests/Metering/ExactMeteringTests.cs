using System.Net;
using System.Text.Json;
using Gateway.Proxy.Metering;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static Gateway.Proxy.Telemetry.TelemetryNames;

namespace Gateway.Tests.Metering;

[Collection(UsesAzurite.Name)]
public sealed class ExactMeteringTests(Azurite azurite) : GatewayTest(azurite)
{
    [Fact]
    public async Task ConcurrentCalls_OverSeveralKeysAndRouteGroups_AreCountedExactly()
    {
        await using var gateway = await StartGatewayAsync();
        var customer = await gateway.CreateCustomerAsync();
        var keys = new[] { await gateway.IssueKeyAsync(customer), await gateway.IssueKeyAsync(customer), await gateway.IssueKeyAsync(customer) };
        var paths = new[] { "alpha/x", "beta/y", "gamma/status/404", "alpha/status/500" };

        // 600 calls: every (key, path) pair 50 times, 16 at a time.
        var calls = (from k in keys from p in paths from i in Enumerable.Range(0, 50) select (k.Key, p)).ToList();
        var statuses = await SendAllAsync(gateway.Data, calls, parallelism: 16);

        Assert.Equal(300, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(150, statuses.Count(s => s == HttpStatusCode.NotFound));
        Assert.Equal(150, statuses.Count(s => s == HttpStatusCode.InternalServerError));

        var usage = await gateway.UsageAsync(customer);
        // Billable by the default set: every answer but the upstream's 500s, which are counted apart.
        Assert.Equal(450, usage.GetProperty("total").GetInt64());
        Assert.Equal(150, usage.GetProperty("upstreamNotBilled").GetInt64());
        Assert.Equal(0, usage.GetProperty("rejected").GetInt64());
        var buckets = Buckets(usage);
        Assert.Equal(300, buckets[("alpha", "2xx")] + buckets[("beta", "2xx")]);
        Assert.Equal(150, buckets[("beta", "2xx")]);
        Assert.Equal(150, buckets[("gamma", "4xx")]);
        Assert.Equal(150, buckets[("alpha", "5xx")]);

        var perKey = await gateway.UsageAsync(customer, $"&keyId={keys[1].Id}");
        Assert.Equal(150, perKey.GetProperty("total").GetInt64());

        await gateway.Services.GetRequiredService<UsageFlushService>().FlushAsync(CancellationToken.None);
        Assert.Equal(600, await StoredHourlyTotalAsync(gateway.TablePrefix, customer));
    }

    [Fact]
    public async Task GracefulRestart_LosesNothing_AndCountsContinue()
    {
        var prefix = TestGateway.NewTablePrefix();
        string customer;
        string key;
        await using (var first = await StartGatewayAsync(tablePrefix: prefix, settings: s => s["Gateway:Metering:FlushInterval"] = "00:05:00"))
        {
            customer = await first.CreateCustomerAsync();
            key = (await first.IssueKeyAsync(customer)).Key;
            await SendAllAsync(first.Data, [.. Enumerable.Repeat((key, "alpha/1"), 137)], parallelism: 8);

            // Nothing was flushed on the (5 minute) interval: only the shutdown flush can save these counts.
            Assert.Equal(0, await StoredHourlyTotalAsync(prefix, customer));
            await first.StopAsync();
        }

        Assert.Equal(137, await StoredHourlyTotalAsync(prefix, customer));

        await using var second = await StartGatewayAsync(tablePrefix: prefix);
        Assert.Equal(137, (await second.UsageAsync(customer)).GetProperty("total").GetInt64());

        await SendAllAsync(second.Data, [.. Enumerable.Repeat((key, "alpha/2"), 13)], parallelism: 4);
        Assert.Equal(150, (await second.UsageAsync(customer)).GetProperty("total").GetInt64());
        using var self = await second.Data.SendAsync(TestGateway.Get("_gateway/usage", key));
        Assert.Equal(150, JsonDocument.Parse(await self.Content.ReadAsStringAsync()).RootElement.GetProperty("used").GetInt64());
    }

    [Fact]
    public async Task RepeatedFlushes_NeverDoubleCount()
    {
        await using var gateway = await StartGatewayAsync(settings: s => s["Gateway:Metering:FlushInterval"] = "00:05:00");
        var flusher = gateway.Services.GetRequiredService<UsageFlushService>();
        var customer = await gateway.CreateCustomerAsync();
        var key = (await gateway.IssueKeyAsync(customer)).Key;

        await SendAllAsync(gateway.Data, [.. Enumerable.Repeat((key, "alpha/1"), 40)], parallelism: 4);
        var first = await flusher.FlushAsync(CancellationToken.None);
        var again = await flusher.FlushAsync(CancellationToken.None);
        await SendAllAsync(gateway.Data, [.. Enumerable.Repeat((key, "alpha/1"), 2)], parallelism: 1);
        await flusher.FlushAsync(CancellationToken.None);
        await flusher.FlushAsync(CancellationToken.None);

        Assert.True(first.Rows > 0);
        Assert.Equal(0, again.Rows);
        Assert.Equal(42, await StoredHourlyTotalAsync(gateway.TablePrefix, customer));
    }

    [Fact]
    public async Task TableWrites_DoNotGrowWithTheRequestRate()
    {
        await using var gateway = await StartGatewayAsync(settings: s => s["Gateway:Metering:FlushInterval"] = "00:05:00");
        var flusher = gateway.Services.GetRequiredService<UsageFlushService>();
        var customer = await gateway.CreateCustomerAsync();
        var key = (await gateway.IssueKeyAsync(customer)).Key;
        await flusher.FlushAsync(CancellationToken.None);
        var before = flusher.TableOperations;

        await SendAllAsync(gateway.Data, [.. Enumerable.Repeat((key, "alpha/1"), 500)], parallelism: 16);
        var result = await flusher.FlushAsync(CancellationToken.None);

        // 500 calls, one cell: one hourly row and one monthly row, in one transaction.
        Assert.Equal(2, result.Rows);
        Assert.Equal(1, flusher.TableOperations - before);
    }

    [Fact]
    public async Task StorageOutage_WhileStorageRefuses_StoresNothingOfIt_ThenTheNextIntervalFlushStoresEveryCount()
    {
        await using var storage = StorageFaultProxy.Start(Azurite);
        await using var gateway = await StartGatewayAsync(settings: s => s["Gateway:Storage:ConnectionString"] = storage.ConnectionString);
        var flusher = gateway.Services.GetRequiredService<UsageFlushService>();
        using var metrics = MetricCapture.Of(gateway);
        var customer = await gateway.CreateCustomerAsync();
        var key = (await gateway.IssueKeyAsync(customer)).Key;
        await SendAllAsync(gateway.Data, [(key, "alpha/warm")], parallelism: 1);
        Assert.Equal(1, await StoredUsage.WaitForHourlyTotalAsync(Azurite, gateway.TablePrefix, customer, 1, TimeSpan.FromSeconds(15)));
        Assert.Empty(metrics.Of(FlushFailures));

        storage.Refuse();
        try
        {
            // Verified keys are served from memory: storage refusing does not stop traffic.
            var statuses = await SendAllAsync(gateway.Data, [.. Enumerable.Repeat((key, "alpha/1"), 60)], parallelism: 6);
            Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));

            // Flushes fail (this one and the interval's), and none of the outage's counts is in storage.
            var failed = await flusher.FlushAsync(CancellationToken.None);
            Assert.False(failed.Complete);
            Assert.Equal(0, failed.Rows);
            Assert.InRange(failed.FailedBatches, 1, 10);
            Assert.Equal(failed.Batches, failed.FailedBatches);
            Assert.True(metrics.Of(FlushFailures).Sum(m => m.Value) >= failed.FailedBatches);
            Assert.Contains(metrics.Of(FlushDuration), m => m.Tag(FlushResultTag) == Incomplete);
            Assert.Equal(1, await StoredUsage.HourlyTotalAsync(Azurite, gateway.TablePrefix, customer));
            Assert.Equal(1, await StoredUsage.MonthTotalAsync(Azurite, gateway.TablePrefix, customer));
        }
        finally
        {
            storage.Restore();
        }

        // No flush of the test's own: the interval flush writes every cell the failed flushes left unwritten.
        Assert.Equal(61, await StoredUsage.WaitForHourlyTotalAsync(Azurite, gateway.TablePrefix, customer, 61, TimeSpan.FromSeconds(15)));
        Assert.Equal(61, await StoredUsage.MonthTotalAsync(Azurite, gateway.TablePrefix, customer));
        var flushes = await metrics.WaitForAsync(FlushDuration, f => f.Count > 0 && f[^1].Tag(FlushResultTag) == Complete);
        Assert.Equal(Complete, flushes[^1].Tag(FlushResultTag));
    }

    [Fact]
    public async Task StorageHang_DuringTraffic_StoresNothingOfIt_ThenTheNextIntervalFlushStoresEveryCount()
    {
        await using var storage = StorageFaultProxy.Start(Azurite);
        await using var gateway = await StartGatewayAsync(settings: s => s["Gateway:Storage:ConnectionString"] = storage.ConnectionString);
        var flusher = gateway.Services.GetRequiredService<UsageFlushService>();
        var customer = await gateway.CreateCustomerAsync();
        var key = (await gateway.IssueKeyAsync(customer)).Key;
        await SendAllAsync(gateway.Data, [(key, "alpha/warm")], parallelism: 1);
        Assert.Equal(1, await StoredUsage.WaitForHourlyTotalAsync(Azurite, gateway.TablePrefix, customer, 1, TimeSpan.FromSeconds(15)));

        storage.BlackHole();
        try
        {
            var statuses = await SendAllAsync(gateway.Data, [.. Enumerable.Repeat((key, "alpha/1"), 60)], parallelism: 6);
            Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));

            // Storage accepts the connection and never answers: a flush waits until it is given up on.
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => flusher.FlushAsync(timeout.Token));
            Assert.Equal(1, await StoredUsage.HourlyTotalAsync(Azurite, gateway.TablePrefix, customer));
        }
        finally
        {
            storage.Restore();
        }

        Assert.Equal(61, await StoredUsage.WaitForHourlyTotalAsync(Azurite, gateway.TablePrefix, customer, 61, TimeSpan.FromSeconds(30)));
    }

    internal static async Task<HttpStatusCode[]> SendAllAsync(HttpClient client, IReadOnlyList<(string Key, string Path)> calls, int parallelism)
    {
        var statuses = new HttpStatusCode[calls.Count];
        await Parallel.ForAsync(0, calls.Count, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (i, ct) =>
        {
            using var response = await client.SendAsync(TestGateway.Get(calls[i].Path, calls[i].Key), ct);
            statuses[i] = response.StatusCode;
        });
        return statuses;
    }

    private static Dictionary<(string RouteGroup, string StatusClass), long> Buckets(JsonElement usage) =>
        usage.GetProperty("buckets").EnumerateArray()
            .GroupBy(b => (b.GetProperty("routeGroup").GetString()!, b.GetProperty("statusClass").GetString()!))
            .ToDictionary(g => g.Key, g => g.Sum(b => b.GetProperty("count").GetInt64()));

    /// <summary>The sum of the stored hourly rows of a customer, read straight from the table.</summary>
    private Task<long> StoredHourlyTotalAsync(string prefix, string customerId) => StoredUsage.HourlyTotalAsync(Azurite, prefix, customerId);
}
