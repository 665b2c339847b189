using System.Net;
using Azure.Data.Tables;
using Gateway.Core.Usage;
using Gateway.Proxy.Metering;
using Gateway.Proxy.Quotas;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Metering;

/// <summary>
/// What a flush keeps in memory: the current month's quota counts and the recent hours stay (calls still land in
/// them); a past month and hours two or more behind go once storage holds them, so memory follows the active cells.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class FlushRetentionTests(Azurite azurite) : GatewayTest(azurite)
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 30, 23, 30, 0, TimeSpan.Zero));

    [Fact]
    public async Task Flush_BetweenCallsOfOneMonth_KeepsTheMonthRowCurrent()
    {
        await using var gateway = await StartAsync();
        var flusher = gateway.Services.GetRequiredService<UsageFlushService>();
        var customer = await gateway.CreateCustomerAsync();
        var key = (await gateway.IssueKeyAsync(customer)).Key;

        await ExactMeteringTests.SendAllAsync(gateway.Data, [.. Enumerable.Repeat((key, "alpha/1"), 3)], parallelism: 1);
        await flusher.FlushAsync(CancellationToken.None);
        await ExactMeteringTests.SendAllAsync(gateway.Data, [.. Enumerable.Repeat((key, "alpha/1"), 2)], parallelism: 1);
        await flusher.FlushAsync(CancellationToken.None);

        Assert.Equal(5, await StoredMonthCountAsync(gateway, customer, 2026, 11));
    }

    [Fact]
    public async Task Flush_AfterTheMonthTurned_DropsThePastMonthAndOldHoursOnceStored_AndKeepsTheCurrentOnes()
    {
        await using var gateway = await StartAsync();
        var flusher = gateway.Services.GetRequiredService<UsageFlushService>();
        var ledger = gateway.Services.GetRequiredService<QuotaLedger>();
        var recorder = gateway.Services.GetRequiredService<UsageRecorder>();
        var customer = await gateway.CreateCustomerAsync();
        var key = (await gateway.IssueKeyAsync(customer)).Key;
        var november = UsageCalendar.MonthOf(_time.GetUtcNow());
        var lastHourOfNovember = UsageCalendar.HourOf(_time.GetUtcNow());

        var inNovember = await ExactMeteringTests.SendAllAsync(gateway.Data, [.. Enumerable.Repeat((key, "alpha/1"), 2)], parallelism: 1);
        _time.Advance(TimeSpan.FromHours(1));
        var inDecember = await ExactMeteringTests.SendAllAsync(gateway.Data, [(key, "alpha/1")], parallelism: 1);
        await flusher.FlushAsync(CancellationToken.None);
        var monthsAfterTheTurn = ledger.Periods.Select(p => p.Month).Order().ToList();
        var hoursAfterTheTurn = recorder.Cells.Select(c => c.Key.Hour).Distinct().Order().ToList();

        _time.Advance(TimeSpan.FromHours(2));
        await flusher.FlushAsync(CancellationToken.None);

        Assert.All(inNovember.Concat(inDecember), s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal([november + 1], monthsAfterTheTurn);
        Assert.Equal([lastHourOfNovember, lastHourOfNovember + 1], hoursAfterTheTurn);
        Assert.Equal([lastHourOfNovember + 1], recorder.Cells.Select(c => c.Key.Hour).Distinct());
        Assert.Equal([november + 1], ledger.Periods.Select(p => p.Month));
        Assert.Equal(2, await StoredMonthCountAsync(gateway, customer, 2026, 11));
        Assert.Equal(1, await StoredMonthCountAsync(gateway, customer, 2026, 12));
    }

    private Task<TestGateway> StartAsync() =>
        StartGatewayAsync(
            settings: s => s["Gateway:Metering:FlushInterval"] = "00:05:00",
            services: s => s.AddSingleton<TimeProvider>(_time));

    private async Task<long> StoredMonthCountAsync(TestGateway gateway, string customer, int year, int month)
    {
        var table = new TableClient(Azurite.ConnectionString, gateway.TablePrefix + "Usage");
        var partition = $"{customer}|{year:D4}{month:D2}";
        long total = 0;
        await foreach (var row in table.QueryAsync<TableEntity>(r => r.PartitionKey == partition))
        {
            if (row.RowKey.StartsWith("m|", StringComparison.Ordinal))
            {
                total += row.GetInt64("Count") ?? 0;
            }
        }

        return total;
    }
}
