using System.Net;
using Azure.Data.Tables;
using Gateway.Core.Usage;
using Gateway.Proxy.Metering;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Metering;

/// <summary>What lands in the usage table: large partitions, and several gateways writing one table.</summary>
[Collection(UsesAzurite.Name)]
public sealed class SharedUsageTableTests(Azurite azurite) : GatewayTest(azurite)
{
    /// <summary>150 keys of one customer: 300 rows in one partition, more than one transaction (100) can hold.</summary>
    [Fact]
    public async Task Flush_OfMoreRowsThanOneTransactionHolds_WritesEveryRow_InBatchesOfAtMost100()
    {
        await using var gateway = await StartGatewayAsync(settings: s => s["Gateway:Metering:FlushInterval"] = "00:05:00");
        var customer = await gateway.CreateCustomerAsync();
        var keys = new string[150];
        await Parallel.ForAsync(0, keys.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
            keys[i] = (await gateway.IssueKeyAsync(customer)).Key);
        var statuses = await ExactMeteringTests.SendAllAsync(gateway.Data, [.. keys.Select(k => (k, "alpha/1"))], parallelism: 8);
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));

        var flush = await gateway.Services.GetRequiredService<UsageFlushService>().FlushAsync(CancellationToken.None);

        // 150 hour rows and 150 month rows, all in the customer's month partition.
        Assert.Equal(new FlushResult(300, 3, 0), flush);
        var rows = await RowsAsync(gateway.TablePrefix, customer);
        Assert.Equal(150, rows.Count(r => r.RowKey.StartsWith("h|", StringComparison.Ordinal) && r.GetInt64("Count") == 1));
        Assert.Equal(150, rows.Count(r => r.RowKey.StartsWith("m|", StringComparison.Ordinal) && r.GetInt64("Count") == 1));
        Assert.Single(rows.Select(r => r.PartitionKey).Distinct());
        Assert.Equal(150, (await gateway.UsageAsync(customer)).GetProperty("total").GetInt64());
    }

    /// <summary>Each gateway writes its own rows (its writer id), so the counts of two gateways add up, never overwrite.</summary>
    [Fact]
    public async Task TwoGateways_OnOneTablePrefix_CountsAddUp()
    {
        var prefix = TestGateway.NewTablePrefix();
        await using var first = await StartGatewayAsync(tablePrefix: prefix, settings: s => s["Gateway:Metering:FlushInterval"] = "00:05:00");
        await using var second = await StartGatewayAsync(tablePrefix: prefix, settings: s => s["Gateway:Metering:FlushInterval"] = "00:05:00");
        var customer = await first.CreateCustomerAsync();
        var (keyId, key) = await first.IssueKeyAsync(customer);

        await Task.WhenAll(
            ExactMeteringTests.SendAllAsync(first.Data, [.. Enumerable.Repeat((key, "alpha/1"), 30)], parallelism: 4),
            ExactMeteringTests.SendAllAsync(second.Data, [.. Enumerable.Repeat((key, "beta/1"), 20)], parallelism: 4));
        await first.Services.GetRequiredService<UsageFlushService>().FlushAsync(CancellationToken.None);
        await second.Services.GetRequiredService<UsageFlushService>().FlushAsync(CancellationToken.None);

        var writers = new[] { first, second }.Select(g => g.Services.GetRequiredService<UsageRecorder>().Writer).ToList();
        Assert.NotEqual(writers[0], writers[1]);
        var hourRows = (await RowsAsync(prefix, customer)).Where(r => r.RowKey.StartsWith("h|", StringComparison.Ordinal)).ToList();
        Assert.Equal(30, hourRows.Where(r => r.GetString("Writer") == writers[0]).Sum(r => r.GetInt64("Count") ?? 0));
        Assert.Equal(20, hourRows.Where(r => r.GetString("Writer") == writers[1]).Sum(r => r.GetInt64("Count") ?? 0));
        foreach (var gateway in new[] { first, second })
        {
            var usage = await gateway.UsageAsync(customer);
            Assert.Equal(50, usage.GetProperty("total").GetInt64());
        }

        var month = UsageCalendar.MonthOf(TestClock.Instance.GetUtcNow());
        var table = first.Services.GetRequiredService<UsageTable>();
        Assert.Equal(50, await table.ReadMonthTotalAsync(customer, keyId, month, exceptWriter: null, CancellationToken.None));
    }

    private async Task<List<TableEntity>> RowsAsync(string prefix, string customerId)
    {
        var table = new TableClient(Azurite.ConnectionString, prefix + "Usage");
        var rows = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>(r => r.PartitionKey.CompareTo(customerId + "|") > 0 && r.PartitionKey.CompareTo(customerId + "}") < 0))
        {
            rows.Add(row);
        }

        return rows;
    }
}
