using Azure.Data.Tables;
using Gateway.Core;
using Gateway.Core.Storage;
using Gateway.Core.Usage;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Usage;

/// <summary>The usage table's rows and reads, against real Azurite: what the flush writes is what reports and quotas read.</summary>
[Collection(UsesAzurite.Name)]
public sealed class UsageTableTests(Azurite azurite) : IAsyncLifetime
{
    private const string Customer = "cust1";
    private static readonly int November = UsageCalendar.MonthOf(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero));
    private static readonly int LastHourOfOctober = UsageCalendar.HourOf(new DateTimeOffset(2026, 10, 31, 23, 0, 0, TimeSpan.Zero));
    private static readonly int FirstHourOfNovember = LastHourOfOctober + 1;

    private GatewayTables _tables = null!;
    private UsageTable _usage = null!;

    public async Task InitializeAsync()
    {
        var options = Options.Create(new GatewayOptions
        {
            Storage = new StorageOptions { ConnectionString = azurite.ConnectionString, TablePrefix = "ut" + Guid.NewGuid().ToString("N")[..16] },
        });
        _tables = new GatewayTables(options, new TableClientOptions());
        await _tables.EnsureCreatedAsync(CancellationToken.None);
        _usage = new UsageTable(_tables);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task HourRows_WrittenAndReadBack_KeepEveryPartOfTheCell()
    {
        var cell = new UsageCell(Customer, "key1", "orders", FirstHourOfNovember + 5, CallOutcome.Status4xx);
        await _usage.WriteBatchAsync([UsageTable.HourRow(new UsageCount(cell, "w1", 7))], CancellationToken.None);

        var read = await ReadHoursAsync(FirstHourOfNovember, FirstHourOfNovember + 24);

        Assert.Equal([new UsageCount(cell, "w1", 7)], read);
    }

    [Fact]
    public async Task HourRow_WrittenAgain_HoldsTheLastCumulativeCount_NotTheSum()
    {
        var cell = new UsageCell(Customer, "key1", "orders", FirstHourOfNovember, CallOutcome.Status2xx);
        await _usage.WriteBatchAsync([UsageTable.HourRow(new UsageCount(cell, "w1", 5))], CancellationToken.None);
        await _usage.WriteBatchAsync([UsageTable.HourRow(new UsageCount(cell, "w1", 8))], CancellationToken.None);

        Assert.Equal([new UsageCount(cell, "w1", 8)], await ReadHoursAsync(FirstHourOfNovember, FirstHourOfNovember + 1));
    }

    [Fact]
    public async Task ReadHours_OverARangeAcrossAMonthBoundary_ReturnsTheHoursInsideIt_FromEitherMonth()
    {
        int[] hours = [LastHourOfOctober - 2, LastHourOfOctober - 1, LastHourOfOctober, FirstHourOfNovember, FirstHourOfNovember + 1, FirstHourOfNovember + 2];
        foreach (var hour in hours)
        {
            var cell = new UsageCell(Customer, "key1", "orders", hour, CallOutcome.Status2xx);
            await _usage.WriteBatchAsync([UsageTable.HourRow(new UsageCount(cell, "w1", hour - LastHourOfOctober + 10))], CancellationToken.None);
        }

        // [from, to): the first hour counts, the last does not.
        var read = await ReadHoursAsync(LastHourOfOctober - 1, FirstHourOfNovember + 2);

        Assert.Equal([LastHourOfOctober - 1, LastHourOfOctober, FirstHourOfNovember, FirstHourOfNovember + 1], read.Select(c => c.Cell.Hour).Order());
    }

    [Fact]
    public async Task ReadHours_WithinOneMonth_LeavesOutTheHoursBeforeAndAfterTheRange()
    {
        foreach (var hour in new[] { FirstHourOfNovember, FirstHourOfNovember + 1, FirstHourOfNovember + 2, FirstHourOfNovember + 3 })
        {
            var cell = new UsageCell(Customer, "key1", "orders", hour, CallOutcome.Status2xx);
            await _usage.WriteBatchAsync([UsageTable.HourRow(new UsageCount(cell, "w1", 1))], CancellationToken.None);
        }

        var read = await ReadHoursAsync(FirstHourOfNovember + 1, FirstHourOfNovember + 3);

        Assert.Equal([FirstHourOfNovember + 1, FirstHourOfNovember + 2], read.Select(c => c.Cell.Hour).Order());
    }

    [Fact]
    public async Task ReadHours_SkipsRowsWhoseOutcomeThisVersionDoesNotKnow()
    {
        var cell = new UsageCell(Customer, "key1", "orders", FirstHourOfNovember, CallOutcome.Status2xx);
        var unknown = UsageTable.HourRow(new UsageCount(cell with { RouteGroup = "billing" }, "w1", 3));
        unknown["Outcome"] = "from-a-later-version";
        await _usage.WriteBatchAsync([UsageTable.HourRow(new UsageCount(cell, "w1", 2)), unknown], CancellationToken.None);

        Assert.Equal([new UsageCount(cell, "w1", 2)], await ReadHoursAsync(FirstHourOfNovember, FirstHourOfNovember + 1));
    }

    [Fact]
    public async Task ReadMonthTotal_SumsEveryWriterButTheOneLeftOut_AndOnlyThatKeysMonthRows()
    {
        var hour = UsageTable.HourRow(new UsageCount(new UsageCell(Customer, "key1", "orders", FirstHourOfNovember, CallOutcome.Status2xx), "w9", 1000));
        await _usage.WriteBatchAsync(
            [
                UsageTable.MonthRow(Customer, "key1", November, "w1", 5),
                UsageTable.MonthRow(Customer, "key1", November, "w2", 7),
                UsageTable.MonthRow(Customer, "key1", November, "w3", 11),
                UsageTable.MonthRow(Customer, "key10", November, "w1", 100),
                UsageTable.MonthRow(Customer, "key", November, "w1", 200),
                hour,
            ],
            CancellationToken.None);
        await _usage.WriteBatchAsync([UsageTable.MonthRow(Customer, "key1", November - 1, "w1", 300)], CancellationToken.None);

        Assert.Equal(23, await _usage.ReadMonthTotalAsync(Customer, "key1", November, exceptWriter: null, CancellationToken.None));
        Assert.Equal(16, await _usage.ReadMonthTotalAsync(Customer, "key1", November, exceptWriter: "w2", CancellationToken.None));
        Assert.Equal(0, await _usage.ReadMonthTotalAsync(Customer, "key2", November, exceptWriter: null, CancellationToken.None));
    }

    [Fact]
    public async Task WriteBatch_OfExactly100Rows_WritesThemInOneTransaction()
    {
        var rows = Enumerable.Range(0, UsageTable.MaxBatchSize)
            .Select(i => UsageTable.MonthRow(Customer, "key1", November, "w" + i, 1))
            .ToList();

        await _usage.WriteBatchAsync(rows, CancellationToken.None);

        Assert.Equal(100, await _usage.ReadMonthTotalAsync(Customer, "key1", November, exceptWriter: null, CancellationToken.None));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(101)]
    public async Task WriteBatch_OfNoRowsOrMoreThan100_IsRefusedAndWritesNothing(int count)
    {
        var rows = Enumerable.Range(0, count)
            .Select(i => UsageTable.MonthRow(Customer, "key1", November, "w" + i, 1))
            .ToList();

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _usage.WriteBatchAsync(rows, CancellationToken.None));
        Assert.Equal(0, await _usage.ReadMonthTotalAsync(Customer, "key1", November, exceptWriter: null, CancellationToken.None));
    }

    private async Task<List<UsageCount>> ReadHoursAsync(int fromHour, int toHour)
    {
        var read = new List<UsageCount>();
        await foreach (var count in _usage.ReadHoursAsync(Customer, fromHour, toHour, CancellationToken.None))
        {
            read.Add(count);
        }

        return read;
    }
}
