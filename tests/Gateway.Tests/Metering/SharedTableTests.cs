using System.Net;
using System.Text.Json;
using Gateway.Proxy.Metering;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Metering;

/// <summary>
/// Two gateways on one table prefix, as two instances of a deployment (README, "How calls are counted" and
/// "Quotas and limits"): each writes rows of its own, reports add what the other stored to what this one has not
/// flushed yet, and a quota counts the other's calls once the key is re-read.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class SharedTableTests(Azurite azurite) : GatewayTest(azurite)
{
    private static readonly DateTimeOffset Start = new(2026, 11, 15, 10, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _timeA = new(Start);
    private readonly FakeTimeProvider _timeB = new(Start);

    [Fact]
    public async Task TwoGateways_OnOneTablePrefix_EachStoresItsOwnCount_AndReportsAddUp()
    {
        var (a, b) = await StartTwoAsync(quota: 1_000);
        await using var _ = a;
        await using var __ = b;
        var customer = await a.CreateCustomerAsync();
        var (_, key) = await a.IssueKeyAsync(customer);

        await SendAsync(a, key, 30);
        await SendAsync(b, key, 20);
        // Nothing is stored yet: each report is what its own process counted.
        Assert.Equal(30, await TotalAsync(a, customer));
        Assert.Equal(20, await TotalAsync(b, customer));

        await FlushAsync(a);
        Assert.Equal(50, await TotalAsync(b, customer));
        await FlushAsync(b);

        Assert.Equal(50, await StoredUsage.HourlyTotalAsync(Azurite, a.TablePrefix, customer));
        Assert.Equal(50, await StoredUsage.MonthTotalAsync(Azurite, a.TablePrefix, customer));
        Assert.Equal(50, await TotalAsync(a, customer));
    }

    [Fact]
    public async Task TwoGateways_OnOneTablePrefix_ShareTheQuota_OnceTheKeyIsReRead()
    {
        var (a, b) = await StartTwoAsync(quota: 50);
        await using var _ = a;
        await using var __ = b;
        var customer = await a.CreateCustomerAsync();
        var (_, key) = await a.IssueKeyAsync(customer);
        await SendAsync(b, key, 1);

        await SendAsync(a, key, 30);
        await FlushAsync(a);

        // B re-reads the key (and what other writers stored this month) one CacheRefresh after it loaded it.
        _timeB.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(31, await UsedWhenAsync(b, key, used => used == 31));
        var statuses = await ExactMeteringTests.SendAllAsync(b.Data, [.. Enumerable.Repeat((key, "alpha/1"), 25)], parallelism: 5);

        Assert.Equal(19, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(6, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        await FlushAsync(b);
        Assert.Equal(50, await StoredUsage.MonthTotalAsync(Azurite, a.TablePrefix, customer));
    }

    /// <summary>Two gateways with the same instance name (their writer ids differ only by the part unique to each start).</summary>
    private async Task<(TestGateway A, TestGateway B)> StartTwoAsync(long quota)
    {
        var prefix = TestGateway.NewTablePrefix();
        void Settings(Dictionary<string, string?> s)
        {
            s["Gateway:Metering:FlushInterval"] = "00:05:00";
            s["Gateway:Metering:InstanceId"] = "node";
            s["Gateway:Keys:CacheRefresh"] = "00:01:00";
            s["Gateway:Plans:open:MonthlyQuota"] = quota.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        var a = await StartGatewayAsync(Settings, prefix, s => s.AddSingleton<TimeProvider>(_timeA));
        var b = await StartGatewayAsync(Settings, prefix, s => s.AddSingleton<TimeProvider>(_timeB));
        return (a, b);
    }

    private static async Task SendAsync(TestGateway gateway, string key, int calls)
    {
        var statuses = await ExactMeteringTests.SendAllAsync(gateway.Data, [.. Enumerable.Repeat((key, "alpha/1"), calls)], parallelism: 4);
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
    }

    private static async Task FlushAsync(TestGateway gateway) =>
        Assert.True((await gateway.Services.GetRequiredService<UsageFlushService>().FlushAsync(CancellationToken.None)).Complete);

    private static async Task<long> TotalAsync(TestGateway gateway, string customer) =>
        (await gateway.UsageAsync(customer)).GetProperty("total").GetInt64();

    /// <summary>The key's used calls from <c>/_gateway/usage</c>, asked until <paramref name="done"/> (each ask may start the re-read).</summary>
    private static async Task<long> UsedWhenAsync(TestGateway gateway, string key, Func<long, bool> done)
    {
        long used = -1;
        for (var attempt = 0; attempt < 100 && !done(used); attempt++)
        {
            using var response = await gateway.Data.SendAsync(TestGateway.Get("_gateway/usage", key));
            used = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("used").GetInt64();
            if (!done(used))
            {
                await Task.Delay(100);
            }
        }

        return used;
    }
}
