using Gateway.Compliance;
using Gateway.Core;
using Gateway.Core.Storage;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Compliance;

/// <summary>The per key and day record counter (what the daily record cap reads) under responses finishing at once.</summary>
[Collection(Contention.Collection)]
public sealed class RecordsDeliveredConcurrencyTests
{
    [Fact]
    public void RecordsDelivered_FromManyResponsesAtOnceIntoANewDay_CountsEveryRecord_InTheDayTheHourAndTheFilter()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2030, 6, 15, 12, 0, 0, TimeSpan.Zero));
        var options = Options.Create(new GatewayOptions { Storage = { ConnectionString = "UseDevelopmentStorage=true" } });
        var tables = new ComplianceTables(new GatewayTables(options, new()));
        EvidenceRecorder recorder = null!;
        var wrong = new List<string>();

        Contention.Run(
            3,
            // A new recorder every round: the threads race to create the day and hour cells as well as to add to them.
            prepare: _ => recorder = new EvidenceRecorder(new EvidenceTable(tables), new RecordTable(tables), Options.Create(new ComplianceOptions()), time),
            step: (_, thread) =>
            {
                var ids = Enumerable.Range(0, 3).Select(i => RecordIdReader.Hash($"t{thread}-{i}")).ToArray();
                return () => recorder.RecordsDelivered("key_1", "cus_1", "open", ids);
            },
            check: (round, steps) =>
            {
                var day = Assert.Single(recorder.Days);
                var (records, filter, _) = day.Snapshot();
                var (hour, _) = Assert.Single(recorder.Cells).Snapshot();
                var expected = 3 * steps.Sum();
                if (records != expected || recorder.RecordsToday("key_1") != expected || hour.Records != expected || filter.Count != 3 * Contention.Threads)
                {
                    wrong.Add($"round {round}: day {records}, today {recorder.RecordsToday("key_1")}, hour {hour.Records} of {expected}; filter {filter.Count} of {3 * Contention.Threads} distinct");
                }
            });

        Assert.Empty(wrong);
    }
}
