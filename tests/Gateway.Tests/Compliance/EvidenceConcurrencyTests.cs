using Gateway.Compliance;
using Gateway.Core;
using Gateway.Core.Storage;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Compliance;

/// <summary>The evidence cells straight from many threads at once: every call counted, and a flush never marks unwritten changes as stored.</summary>
[Collection(Contention.Collection)]
public sealed class EvidenceConcurrencyTests
{
    private const int Rounds = 3;

    [Fact]
    public void Record_FromManyThreadsIntoANewCell_CountsEveryCallAndEveryNetwork()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2030, 6, 15, 12, 0, 0, TimeSpan.Zero));
        var options = Options.Create(new GatewayOptions { Storage = { ConnectionString = "UseDevelopmentStorage=true" } });
        EvidenceRecorder recorder = null!;
        var wrong = new List<string>();

        Contention.Run(
            Rounds,
            // A new recorder every round: the threads race to create the cell as well as to record in it.
            prepare: _ => recorder = new EvidenceRecorder(new EvidenceTable(new ComplianceTables(new GatewayTables(options, new()))), new RecordTable(new ComplianceTables(new GatewayTables(options, new()))), Options.Create(new ComplianceOptions()), time),
            step: (_, thread) => () => recorder.Record("key_1", "cus_1", "open", EvidenceNetwork.OfIPv4((uint)thread << 8), $"agent-{thread % 3}", EvidenceKind.Call),
            check: (round, steps) =>
            {
                var cell = Assert.Single(recorder.Cells);
                var (evidence, _) = cell.Snapshot();
                if (evidence.Calls != steps.Sum() || evidence.Networks.Count != Contention.Threads || evidence.UserAgents.Count != 3)
                {
                    wrong.Add($"round {round}: {evidence.Calls} of {steps.Sum()} calls, {evidence.Networks.Count} networks, {evidence.UserAgents.Count} agents");
                }
            });

        Assert.Empty(wrong);
    }

    [Fact]
    public void Flush_WhileThreadsRecord_LeavesTheCellDirtyUnlessTheLastSnapshotHoldsEveryCall()
    {
        KeyHourEvidence cell = null!;
        HourEvidence? written = null;
        var wrong = new List<string>();

        Contention.Run(
            Rounds,
            prepare: _ => cell = new KeyHourEvidence("key_1", "cus_1", "open", 1, 256),
            step: (_, thread) => thread == 0
                ? () =>
                {
                    // A flush: snapshot, "write", mark flushed as of the snapshot.
                    var (evidence, change) = cell.Snapshot();
                    written = evidence;
                    cell.MarkFlushed(change);
                }
                : () => cell.Record(1, 1, EvidenceKind.Call),
            check: (round, steps) =>
            {
                var recorded = steps.Sum() - steps[0];
                if (!cell.IsDirty && written!.Calls != recorded)
                {
                    wrong.Add($"round {round}: clean, but storage holds {written.Calls} of {recorded} calls");
                }

                var (final, change) = cell.Snapshot();
                cell.MarkFlushed(change);
                if (final.Calls != recorded || cell.IsDirty)
                {
                    wrong.Add($"round {round}: the final flush holds {final.Calls} of {recorded}");
                }
            });

        Assert.Empty(wrong);
    }
}
