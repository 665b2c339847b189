using System.Globalization;
using System.Net;
using Gateway.Proxy.Metering;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Metering;

[Collection(UsesAzurite.Name)]
public sealed class FlushBatchingTests(Azurite azurite) : GatewayTest(azurite)
{
    private const int RouteGroups = 120;

    [Fact]
    public async Task Flush_OfMoreThan100RowsInOnePartition_WritesThemInTransactionsOfAtMost100()
    {
        // One customer, one month (one partition): 120 route groups give 120 hourly rows, plus the key's month row.
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 15, 10, 0, 0, TimeSpan.Zero));
        await using var gateway = await StartGatewayAsync(
            settings: s =>
            {
                s["Gateway:Metering:FlushInterval"] = "00:05:00";
                for (var i = 0; i < RouteGroups; i++)
                {
                    var name = "g" + i.ToString(CultureInfo.InvariantCulture);
                    s[$"ReverseProxy:Routes:{name}:ClusterId"] = "upstream";
                    s[$"ReverseProxy:Routes:{name}:Match:Path"] = $"/{name}/{{**rest}}";
                    s[$"ReverseProxy:Routes:{name}:Metadata:RouteGroup"] = name;
                    s[$"Gateway:Plans:open:RouteGroups:{3 + i}"] = name;
                }
            },
            services: s => s.AddSingleton<TimeProvider>(time));
        var flusher = gateway.Services.GetRequiredService<UsageFlushService>();
        var customer = await gateway.CreateCustomerAsync();
        var key = (await gateway.IssueKeyAsync(customer)).Key;

        var statuses = await ExactMeteringTests.SendAllAsync(gateway.Data, [.. Enumerable.Range(0, RouteGroups).Select(i => (key, $"g{i}/1"))], parallelism: 8);
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        var result = await flusher.FlushAsync(CancellationToken.None);

        Assert.Equal(new FlushResult(Rows: RouteGroups + 1, Batches: 2, FailedBatches: 0), result);
        Assert.Equal(RouteGroups, await StoredUsage.HourlyTotalAsync(Azurite, gateway.TablePrefix, customer));
        Assert.Equal(RouteGroups, await StoredUsage.MonthTotalAsync(Azurite, gateway.TablePrefix, customer));
    }
}
