using Gateway.Compliance;
using Gateway.Core;
using Gateway.Core.Storage;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Compliance;

/// <summary>The evidence flush against Azurite: many keys of one hour go as partition batches (more than 100 rows in one partition included) and read back exactly.</summary>
[Collection(UsesAzurite.Name)]
public sealed class EvidenceFlushTests(Azurite azurite)
{
    [Fact]
    public async Task Flush_Of250KeysInOnePartitionAnd40InOthers_StoresEveryCellOnce_AndASecondFlushWritesNothing()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2030, 6, 15, 12, 0, 0, TimeSpan.Zero));
        var options = Options.Create(new GatewayOptions { Storage = { ConnectionString = azurite.ConnectionString, TablePrefix = TestGateway.NewTablePrefix() } });
        var tables = new ComplianceTables(new GatewayTables(options, new()));
        var table = new EvidenceTable(tables);
        using var recorder = new EvidenceRecorder(table, new RecordTable(tables), Options.Create(new ComplianceOptions()), time);
        // 250 keys share a first character (one partition: three transactions); 40 more spread over others.
        var keys = Enumerable.Range(0, 250).Select(i => $"a{i:D7}").Concat(Enumerable.Range(0, 40).Select(i => $"{(char)('b' + (i % 20))}{i:D7}")).ToList();
        foreach (var (key, i) in keys.Select((k, i) => (k, i)))
        {
            for (var call = 0; call <= i % 3; call++)
            {
                recorder.Record(key, "cus_1", "open", EvidenceNetwork.OfIPv4(0x7F000100u + (uint)call), "agent", EvidenceKind.Call);
            }
        }

        var written = await recorder.FlushAsync(default);
        var again = await recorder.FlushAsync(default);
        var stored = await table.ReadAsync(time.GetUtcNow().UtcTicks / TimeSpan.TicksPerHour, default);

        Assert.Equal((290, 0), (written, again));
        Assert.Equal(keys.Order(StringComparer.Ordinal), stored.Select(k => k.KeyId).Order(StringComparer.Ordinal));
        Assert.All(stored, k => Assert.Equal(keys.IndexOf(k.KeyId) % 3 + 1, Assert.Single(k.Hours).Calls));
    }
}
