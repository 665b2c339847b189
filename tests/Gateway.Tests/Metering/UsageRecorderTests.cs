using Gateway.Core;
using Gateway.Core.Usage;
using Gateway.Proxy.Metering;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Metering;

/// <summary>The in-memory usage counters: cells by UTC hour, the writer id, what a report reads, what may be dropped.</summary>
public sealed class UsageRecorderTests
{
    private static readonly DateTimeOffset TenOClock = new(2026, 11, 15, 10, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(TenOClock);

    [Fact]
    public void Writer_OfANamedInstance_IsItsLettersAndDigits_UpTo24_ThenARandomPartPerStart()
    {
        var first = Recorder("eu-west_gateway.instance-0001-and-a-long-tail");
        var second = Recorder("eu-west_gateway.instance-0001-and-a-long-tail");

        Assert.Matches("^euwestgatewayinstance000-[0-9a-f]{8}$", first.Writer);
        Assert.NotEqual(first.Writer, second.Writer);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Writer_OfAnUnnamedInstance_StartsWithTheMachineName(string? instanceId)
    {
        var machine = new string([.. Environment.MachineName.Where(char.IsAsciiLetterOrDigit).Take(24)]);

        Assert.Matches($"^{machine}-[0-9a-f]{{8}}$", Recorder(instanceId).Writer);
    }

    [Fact]
    public void Record_CountsEachCallInTheCellOfItsUtcHour()
    {
        var recorder = Recorder("gw");
        recorder.Record("c1", "k1", "orders", CallOutcome.Status2xx);
        recorder.Record("c1", "k1", "orders", CallOutcome.Status2xx);
        _time.Advance(TimeSpan.FromMinutes(59));
        recorder.Record("c1", "k1", "orders", CallOutcome.Status2xx);
        _time.Advance(TimeSpan.FromMinutes(1));
        recorder.Record("c1", "k1", "orders", CallOutcome.Status2xx);

        var hour = UsageCalendar.HourOf(TenOClock);
        var cells = recorder.Cells.ToDictionary(c => c.Key, c => c.Value.Count);
        Assert.Equal(2, cells.Count);
        Assert.Equal(3, cells[new UsageCell("c1", "k1", "orders", hour, CallOutcome.Status2xx)]);
        Assert.Equal(1, cells[new UsageCell("c1", "k1", "orders", hour + 1, CallOutcome.Status2xx)]);
    }

    [Fact]
    public void Counts_ReturnOneCustomersCellsInTheHourRange_UnderThisWriter()
    {
        var recorder = Recorder("gw");
        var hour = UsageCalendar.HourOf(TenOClock);
        foreach (var offset in new[] { 0, 1, 2, 3 })
        {
            recorder.Record("c1", "k1", "orders", CallOutcome.Status2xx);
            recorder.Record("c2", "k2", "orders", CallOutcome.Status2xx);
            _time.Advance(TimeSpan.FromHours(1));
        }

        var counts = recorder.Counts("c1", fromHour: hour + 1, toHour: hour + 3).OrderBy(c => c.Cell.Hour).ToList();

        Assert.Equal(
            [
                new UsageCount(new UsageCell("c1", "k1", "orders", hour + 1, CallOutcome.Status2xx), recorder.Writer, 1),
                new UsageCount(new UsageCell("c1", "k1", "orders", hour + 2, CallOutcome.Status2xx), recorder.Writer, 1),
            ],
            counts);
    }

    [Fact]
    public void Forget_DropsOnlyCellsBeforeTheHourThatStorageHoldsCompletely()
    {
        var recorder = Recorder("gw");
        var hour = UsageCalendar.HourOf(TenOClock);
        recorder.Record("c1", "k1", "written", CallOutcome.Status2xx);
        recorder.Record("c1", "k1", "unwritten", CallOutcome.Status2xx);
        _time.Advance(TimeSpan.FromHours(1));
        recorder.Record("c1", "k1", "current", CallOutcome.Status2xx);
        foreach (var (cell, counter) in recorder.Cells)
        {
            if (cell.RouteGroup != "unwritten")
            {
                counter.MarkFlushed(counter.Count, flushStarted: 0);
            }
        }

        recorder.Forget(beforeHour: hour + 1);

        Assert.Equal(["current", "unwritten"], recorder.Cells.Select(c => c.Key.RouteGroup).Order());
    }

    private UsageRecorder Recorder(string? instanceId) =>
        new(Options.Create(new GatewayOptions { Metering = new MeteringOptions { InstanceId = instanceId } }), _time);
}
