using System.Net;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Metering;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Proxying;

[Collection(UsesAzurite.Name)]
public sealed class QuotaPeriodTests(Azurite azurite) : GatewayTest(azurite)
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 30, 23, 59, 0, TimeSpan.Zero));

    [Fact]
    public async Task ExhaustedQuota_ResetsAtTheStartOfTheNextUtcMonth()
    {
        await using var gateway = await StartGatewayAsync(
            settings: s => s["Gateway:Plans:open:MonthlyQuota"] = "3",
            services: s => s.AddSingleton<TimeProvider>(_time));
        var customer = await gateway.CreateCustomerAsync();
        var (_, key) = await gateway.IssueKeyAsync(customer);

        var november = await ExactMeteringTests.SendAllAsync(gateway.Data, [.. Enumerable.Repeat((key, "alpha/1"), 5)], parallelism: 1);
        using (var refused = await gateway.Data.SendAsync(TestGateway.Get("alpha/1", key)))
        {
            Assert.Equal(TimeSpan.FromSeconds(60), refused.Headers.RetryAfter?.Delta);
        }

        _time.Advance(TimeSpan.FromMinutes(1));
        var december = await ExactMeteringTests.SendAllAsync(gateway.Data, [.. Enumerable.Repeat((key, "alpha/1"), 4)], parallelism: 1);

        Assert.Equal([200, 200, 200, 429, 429], november.Select(s => (int)s));
        Assert.Equal([200, 200, 200, 429], december.Select(s => (int)s));
        Assert.Equal(3, (await gateway.UsageAsync(customer, "&from=2026-11-01&to=2026-12-01")).GetProperty("total").GetInt64());
        Assert.Equal(3, (await gateway.UsageAsync(customer, "&from=2026-12-01&to=2027-01-01")).GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task QuotaBaseline_AfterRestart_CountsCallsStoredByEarlierRuns()
    {
        var prefix = TestGateway.NewTablePrefix();
        string key;
        await using (var first = await StartGatewayAsync(tablePrefix: prefix, settings: s => s["Gateway:Plans:open:MonthlyQuota"] = "10"))
        {
            var customer = await first.CreateCustomerAsync();
            key = (await first.IssueKeyAsync(customer)).Key;
            await ExactMeteringTests.SendAllAsync(first.Data, [.. Enumerable.Repeat((key, "alpha/1"), 7)], parallelism: 4);
            await first.StopAsync();
        }

        await using var second = await StartGatewayAsync(tablePrefix: prefix, settings: s => s["Gateway:Plans:open:MonthlyQuota"] = "10");
        var statuses = await ExactMeteringTests.SendAllAsync(second.Data, [.. Enumerable.Repeat((key, "alpha/1"), 6)], parallelism: 3);

        Assert.Equal(3, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(3, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
    }
}
