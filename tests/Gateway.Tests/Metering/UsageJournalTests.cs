using System.Buffers;
using System.Text;
using Gateway.Core;
using Gateway.Core.Usage;
using Gateway.Proxy.Metering;
using Gateway.Proxy.Quotas;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Metering;

/// <summary>
/// The usage journal on its own (proxy/README.md, "The usage journal"): records, replay, torn tails, the writer id
/// kept across runs, and the ordering rules between the request path, the group commit and the flush.
/// </summary>
[Collection(Contention.Collection)]
public sealed class UsageJournalTests : IDisposable
{
    private const int November = 2026_11;
    private readonly string _path = TestGateway.NewJournalPath();
    private readonly CapturedLogs _logs = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 15, 10, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task Replay_OfTheCountsOfTheLastRun_RestoresCellsAndQuotaMonths_UnderTheSameWriter()
    {
        string writer;
        using (var journal = Open())
        {
            var (recorder, ledger, commits) = await RunAsync(journal);
            writer = recorder.Writer;
            recorder.Record("cus_1", "key_1", "alpha", CallOutcome.Status2xx);
            recorder.Record("cus_1", "key_1", "alpha", CallOutcome.Status2xx);
            ledger.Period("cus_1", "key_1", November).TryAdmit(BlockingPlan(100));
            await journal.SyncAsync(CancellationToken.None);
            await commits.StopAsync(CancellationToken.None);
        }

        using var reopened = Open();
        var restored = new UsageRecorder(Options(), _time, reopened);
        var restoredLedger = new QuotaLedger(reopened);

        Assert.Equal(writer, restored.Writer);
        var cell = Assert.Single(restored.Cells);
        Assert.Equal(new UsageCell("cus_1", "key_1", "alpha", UsageCalendar.HourOf(_time.GetUtcNow()), CallOutcome.Status2xx), cell.Key);
        Assert.Equal(2, cell.Value.Count);
        Assert.Equal(1, restoredLedger.Period("cus_1", "key_1", November).Local);
    }

    [Fact]
    public void Replay_OfASegmentCutInTheMiddleOfARecord_KeepsTheRecordsBefore_AndWarns()
    {
        Directory.CreateDirectory(Folder);
        File.WriteAllText(Path.Combine(Folder, "writer"), "gw-0000abcd");
        var buffer = new ArrayBufferWriter<byte>();
        UsageJournal.WriteRecord(buffer, "m\tcus_1\tkey_1\t202611", 5);
        UsageJournal.WriteRecord(buffer, "m\tcus_1\tkey_2\t202611", 7);
        UsageJournal.WriteRecord(buffer, "m\tcus_1\tkey_1\t202611", 6);
        var bytes = buffer.WrittenSpan.ToArray();
        File.WriteAllBytes(Path.Combine(Folder, "000000000001.log"), bytes[..^9]);

        using var journal = Open();

        Assert.Equal("gw-0000abcd", journal.Writer);
        Assert.Equal(5, journal.Recovered["m\tcus_1\tkey_1\t202611"]);
        Assert.Equal(7, journal.Recovered["m\tcus_1\tkey_2\t202611"]);
        Assert.Contains(_logs.Entries, e => e.StartsWith("Warning", StringComparison.Ordinal) && e.Contains("000000000001.log", StringComparison.Ordinal));
    }

    [Fact]
    public void Replay_OfARecordWithAWrongChecksum_StopsThatSegmentThere()
    {
        Directory.CreateDirectory(Folder);
        File.WriteAllText(Path.Combine(Folder, "000000000001.log"), "m\tcus_1\tkey_1\t202611\t9\t00000000\n");

        using var journal = Open();

        Assert.Empty(journal.Recovered);
        Assert.Contains(_logs.Entries, e => e.StartsWith("Warning", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Flush_WithAJournal_WritesOnlyJournaledValues()
    {
        using var journal = Open();
        var count = new FlushableCount(journal, "m\tcus_1\tkey_1\t202611");
        count.Increment();
        count.Increment();

        // Not committed yet (no writer runs): storage must not get a value the journal might not have after a crash.
        Assert.False(count.TryReadDirty(out _));
        Assert.True(count.IsDirty);

        var (_, _, commits) = await RunAsync(journal, count);
        await journal.SyncAsync(CancellationToken.None);
        Assert.True(count.TryReadDirty(out var value));
        Assert.Equal(2, value);
        await commits.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Rotation_PastTheSegmentSize_KeepsEveryCountsLastValue_AndDeletesOlderSegments()
    {
        using (var journal = Open(segmentBytes: 64 * 1024))
        {
            var counts = Enumerable.Range(0, 3_000).Select(i => new FlushableCount(journal, $"m\tcus_1\tkey_{i:D6}\t202611")).ToList();
            var (_, _, commits) = await RunAsync(journal, [.. counts]);
            for (var round = 1; round <= 3; round++)
            {
                counts.ForEach(c => c.Increment());
                await journal.SyncAsync(CancellationToken.None);
            }

            await commits.StopAsync(CancellationToken.None);
        }

        Assert.InRange(Directory.GetFiles(Folder, "*.log").Length, 1, 2);
        using var reopened = Open();
        Assert.Equal(3_000, reopened.Recovered.Count);
        Assert.All(reopened.Recovered.Values, v => Assert.Equal(3, v));
    }

    [Fact]
    public async Task Open_OfAJournalAnotherProcessHolds_FailsWithTheReason()
    {
        using var first = Open();
        var failure = Assert.Throws<InvalidOperationException>(() => Open());
        Assert.Contains("in use by another process", failure.Message, StringComparison.Ordinal);
        await Task.CompletedTask;
    }

    /// <summary>
    /// The request side's ordering rule against the group commit, raced: increments from every thread while the writer
    /// commits; after a last sync the journal holds every increment (an increment that set no queue mark, or a mark
    /// cleared after the read, would leave the journaled value behind).
    /// </summary>
    [Fact]
    public async Task Increments_RacingTheGroupCommit_AreAllJournaled()
    {
        using var journal = Open();
        var counts = new List<FlushableCount>();
        var source = new ListSource(counts);
        var commits = new UsageJournalWriter(journal, [source], _time, new LoggerFactory([_logs]).CreateLogger<UsageJournalWriter>());
        await commits.StartAsync(CancellationToken.None);
        var behind = new List<string>();
        FlushableCount count = null!;

        Contention.Run(
            rounds: 3,
            prepare: round =>
            {
                count = new FlushableCount(journal, $"m\tcus_1\tkey_{round}\t202611");
                lock (counts)
                {
                    counts.Add(count);
                }
            },
            step: (_, _) => count.Increment,
            check: (round, steps) =>
            {
                journal.SyncAsync(CancellationToken.None).Wait(TimeSpan.FromSeconds(30));
                if (count.Journaled != steps.Sum() || count.Count != steps.Sum())
                {
                    behind.Add($"round {round}: counted {count.Count}, journaled {count.Journaled} of {steps.Sum()}");
                }
            });

        await commits.StopAsync(CancellationToken.None);
        Assert.True(behind.Count == 0, string.Join("; ", behind));
        Assert.True(journal.Commits > 3);
    }

    private string Folder => Path.Combine(_path, "gw");

    private IOptions<GatewayOptions> Options(long segmentBytes = 16 * 1024 * 1024) => Microsoft.Extensions.Options.Options.Create(new GatewayOptions
    {
        Metering = { InstanceId = "gw", Journal = { Path = _path, SegmentBytes = segmentBytes } },
    });

    private UsageJournal Open() => Open(16 * 1024 * 1024);

    private UsageJournal Open(long segmentBytes) => new(Options(segmentBytes), new LoggerFactory([_logs]).CreateLogger<UsageJournal>());

    private async Task<(UsageRecorder Recorder, QuotaLedger Ledger, UsageJournalWriter Writer)> RunAsync(UsageJournal journal, params FlushableCount[] more)
    {
        var recorder = new UsageRecorder(Options(), _time, journal);
        var ledger = new QuotaLedger(journal);
        var writer = new UsageJournalWriter(journal, [recorder, ledger, new ListSource([.. more])], _time, new LoggerFactory([_logs]).CreateLogger<UsageJournalWriter>());
        await writer.StartAsync(CancellationToken.None);
        return (recorder, ledger, writer);
    }

    private static Gateway.Core.Plans.Plan BlockingPlan(long quota) =>
        new("hundred", new Gateway.Core.Plans.PlanOptions { MonthlyQuota = quota, OverQuota = "Block", RequestsPerSecond = 10, Burst = 10 });

    public void Dispose()
    {
        try
        {
            Directory.Delete(_path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private sealed class ListSource(List<FlushableCount> counts) : IUsageRowSource
    {
        public IEnumerable<FlushableCount> FlushableCounts
        {
            get
            {
                lock (counts)
                {
                    return [.. counts];
                }
            }
        }

        public IEnumerable<UsageRow> DirtyRows(string writer) => [];

        public void ForgetFlushed(DateTimeOffset now)
        {
        }
    }
}
