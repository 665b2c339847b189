using System.Globalization;
using Gateway.Core.Usage;
using Gateway.Core;
using Gateway.Proxy.Metering;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Metering;

/// <summary>
/// The partition budget: an interval flush writes at most its budget of rows into one partition (one customer's
/// month), oldest first, and the rest in the next flushes, so no row waits longer than its partition's backlog needs
/// and none is ever lost or counted twice.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class FlushBudgetTests(Azurite azurite) : GatewayTest(azurite)
{
    private const int Budget = 100;
    private const int Keys = 250;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2030, 6, 15, 10, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task Flush_OfAPartitionOverItsBudget_WritesTheOldestRowsFirst_AndEveryCountWithinItsBacklog()
    {
        await using var gateway = await StartAsync();
        var (flusher, recorder) = (gateway.Services.GetRequiredService<UsageFlushService>(), gateway.Services.GetRequiredService<UsageRecorder>());
        const string customer = "cus_budget";
        RecordOnceEach(recorder, customer, 0, Keys);

        var first = await FlushAsync(flusher);
        var rowsAfterFirst = await StoredUsage.HourlyRowCountAsync(Azurite, gateway.TablePrefix, customer);

        // The 100 rows written are counted again: dirty once more, but younger than the 150 still waiting.
        var written = recorder.Cells.Where(c => !c.Value.IsDirty).Select(c => c.Key).ToList();
        foreach (var cell in written)
        {
            recorder.Record(cell.CustomerId, cell.KeyId, cell.RouteGroup, cell.Outcome);
        }

        var second = await FlushAsync(flusher);
        var rowsAfterSecond = await StoredUsage.HourlyRowCountAsync(Azurite, gateway.TablePrefix, customer);
        var third = await FlushAsync(flusher);
        var rowsAfterThird = await StoredUsage.HourlyRowCountAsync(Azurite, gateway.TablePrefix, customer);
        var fourth = await FlushAsync(flusher);

        Assert.Equal(new FlushResult(Rows: Budget, Batches: 1, FailedBatches: 0, Deferred: 150), first);
        Assert.Equal(Budget, rowsAfterFirst);
        Assert.Equal(Budget, written.Count);
        Assert.Equal(new FlushResult(Rows: Budget, Batches: 1, FailedBatches: 0, Deferred: 150), second);
        Assert.Equal(2 * Budget, rowsAfterSecond); // the 100 oldest of the waiting rows, not the ones just written again
        Assert.Equal(new FlushResult(Rows: Budget, Batches: 1, FailedBatches: 0, Deferred: 50), third);
        Assert.Equal(Keys, rowsAfterThird); // every row written within the three flushes its backlog needed
        Assert.Equal(new FlushResult(Rows: 50, Batches: 1, FailedBatches: 0, Deferred: 0), fourth);
        Assert.Equal(Keys + Budget, await StoredUsage.HourlyTotalAsync(Azurite, gateway.TablePrefix, customer));
    }

    [Fact]
    public async Task Flush_OverTheBudget_ReportsItsBacklog_AndTheLossWindowCountsFromBeforeTheFirstFlushThatFoundTheRows()
    {
        await using var gateway = await StartAsync();
        var (flusher, recorder) = (gateway.Services.GetRequiredService<UsageFlushService>(), gateway.Services.GetRequiredService<UsageRecorder>());
        var status = gateway.Services.GetRequiredService<UsageFlushStatus>();
        RecordOnceEach(recorder, "cus_backlog", 0, Keys);
        _time.Advance(TimeSpan.FromSeconds(10));

        await FlushAsync(flusher); // 11 s after the start: the rows it left were counted before any flush
        var ageWithBacklog = status.OldestUnflushedAge();
        var backlog = status.BacklogFlushes;
        await FlushAsync(flusher);
        var ageOfTheLastRows = status.OldestUnflushedAge(); // still not written: as old as before, plus the second
        await flusher.FlushAsync(CancellationToken.None);

        Assert.Equal(TimeSpan.FromSeconds(11), ageWithBacklog);
        Assert.Equal(3, backlog);
        Assert.Equal(TimeSpan.FromSeconds(12), ageOfTheLastRows);
        Assert.Equal(TimeSpan.Zero, status.OldestUnflushedAge());
        Assert.Equal(1, status.BacklogFlushes);
    }

    [Fact]
    public async Task Flush_OfExactlyTwoBudgetsOfRows_ReportsABacklogOfTwoFlushes_AndABudgetBelowOneRowIsRefused()
    {
        await using var gateway = await StartAsync();
        var (flusher, recorder) = (gateway.Services.GetRequiredService<UsageFlushService>(), gateway.Services.GetRequiredService<UsageRecorder>());
        var status = gateway.Services.GetRequiredService<UsageFlushStatus>();
        RecordOnceEach(recorder, "cus_two_budgets", 0, 2 * Budget);

        var first = await FlushAsync(flusher);

        Assert.Equal(new FlushResult(Rows: Budget, Batches: 1, FailedBatches: 0, Deferred: Budget), first);
        Assert.Equal(2, status.BacklogFlushes); // the ceiling of 200 ÷ 100, not one more
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => flusher.FlushAsync(0, CancellationToken.None));
    }

    [Fact]
    public async Task PartitionBudget_IsTheRowsPerSecondTimesTheFlushInterval_AndNeverLessThanOneTransaction()
    {
        await using var gateway = await StartAsync(("Gateway:Metering:PartitionRowsPerSecond", "150"), ("Gateway:Metering:FlushInterval", "00:00:04"));
        var small = new MeteringOptions { PartitionRowsPerSecond = 50, FlushInterval = TimeSpan.FromSeconds(1) };

        Assert.Equal(600, gateway.Services.GetRequiredService<UsageFlushService>().PartitionBudget);
        Assert.Equal(UsageTable.MaxBatchSize, small.PartitionBudget);
    }

    private static void RecordOnceEach(UsageRecorder recorder, string customer, int from, int count)
    {
        for (var i = from; i < from + count; i++)
        {
            recorder.Record(customer, "key_" + i.ToString("D4", CultureInfo.InvariantCulture), "alpha", CallOutcome.Status2xx);
        }
    }

    /// <summary>An interval flush one second after the last, at the test's budget.</summary>
    private Task<FlushResult> FlushAsync(UsageFlushService flusher)
    {
        _time.Advance(TimeSpan.FromSeconds(1));
        return flusher.FlushAsync(Budget, CancellationToken.None);
    }

    private Task<TestGateway> StartAsync(params (string Key, string Value)[] settings) =>
        StartGatewayAsync(
            settings: s =>
            {
                s["Gateway:Metering:FlushInterval"] = "00:05:00"; // the test flushes; the interval timer never ticks
                foreach (var (key, value) in settings)
                {
                    s[key] = value;
                }
            },
            services: s => s.AddSingleton<TimeProvider>(_time));
}
