using Azure.Data.Tables;
using Gateway.Core.Storage;
using Gateway.Proxy.Metering;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Metering;

[Collection(UsesAzurite.Name)]
public sealed class FlushFailureLogTests(Azurite azurite) : GatewayTest(azurite)
{
    [Fact]
    public async Task FailedFlush_WhenStorageRefusesConnections_LogsOneWarningLineWithoutStackTrace()
    {
        var storage = new StorageSwitch();
        var logs = new CapturedLogs();
        await using var gateway = await StartGatewayAsync(
            settings: s => s["Gateway:Metering:FlushInterval"] = "00:05:00",
            services: s => s.AddSingleton(storage.Options()).AddSingleton<ILoggerProvider>(logs));
        var flusher = gateway.Services.GetRequiredService<UsageFlushService>();
        var customer = await gateway.CreateCustomerAsync();
        var key = (await gateway.IssueKeyAsync(customer)).Key;
        await ExactMeteringTests.SendAllAsync(gateway.Data, [(key, "alpha/1")], parallelism: 1);

        storage.Refuse();
        var failed = await flusher.FlushAsync(CancellationToken.None);
        storage.Answer();

        Assert.False(failed.Complete);
        var line = Assert.Single(logs.Entries, e => e.Contains($" {typeof(UsageFlushService).FullName}[", StringComparison.Ordinal));
        Assert.StartsWith("Warning ", line, StringComparison.Ordinal);
        Assert.Contains("Connection refused", line, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', line); // CapturedLogs appends an exception (with its stack) after a line break
        Assert.True((await flusher.FlushAsync(CancellationToken.None)).Complete);
    }

    [Fact]
    public async Task FailedFlush_WhenStorageAnswers503_LogsOnlyTheFirstLineOfTheError_AsAWarning()
    {
        var storage = new StorageSwitch();
        var logs = new CapturedLogs();
        await using var gateway = await StartGatewayAsync(
            settings: s => s["Gateway:Metering:FlushInterval"] = "00:05:00",
            services: s => s.AddSingleton(storage.Options()).AddSingleton<ILoggerProvider>(logs));
        var flusher = gateway.Services.GetRequiredService<UsageFlushService>();
        var customer = await gateway.CreateCustomerAsync();
        var key = (await gateway.IssueKeyAsync(customer)).Key;
        await ExactMeteringTests.SendAllAsync(gateway.Data, [(key, "alpha/1")], parallelism: 1);

        storage.Busy();
        var failed = await flusher.FlushAsync(CancellationToken.None);
        storage.Answer();

        Assert.Equal(failed.Batches, failed.FailedBatches);
        var line = Assert.Single(logs.Entries, e => e.Contains($" {typeof(UsageFlushService).FullName}[", StringComparison.Ordinal));
        Assert.StartsWith("Warning ", line, StringComparison.Ordinal);

        // The SDK's message has the status, headers and body on further lines: only the first one is logged.
        Assert.Contains("(The server is busy (storage switched to busy by the test).)", line, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', line);
        Assert.DoesNotContain("ServiceUnavailable", line, StringComparison.Ordinal);
        Assert.True((await flusher.FlushAsync(CancellationToken.None)).Complete);
    }

    [Fact]
    public async Task FailedFlush_WhenStorageRejectsTheRequest_LogsAnError_WithTheException()
    {
        var logs = new CapturedLogs();
        await using var gateway = await StartGatewayAsync(
            settings: s => s["Gateway:Metering:FlushInterval"] = "00:05:00",
            services: s => s.AddSingleton<ILoggerProvider>(logs));
        var flusher = gateway.Services.GetRequiredService<UsageFlushService>();
        var customer = await gateway.CreateCustomerAsync();
        var key = (await gateway.IssueKeyAsync(customer)).Key;
        await ExactMeteringTests.SendAllAsync(gateway.Data, [(key, "alpha/1")], parallelism: 1);

        // A 404 (the table is gone) is not an outage: retrying would fail alike, so it is logged as an error, with its stack.
        var usage = new TableClient(Azurite.ConnectionString, gateway.TablePrefix + TableNames.Usage);
        await usage.DeleteAsync();
        var failed = await flusher.FlushAsync(CancellationToken.None);
        await usage.CreateIfNotExistsAsync();

        Assert.Equal(failed.Batches, failed.FailedBatches);
        var lines = logs.Entries.Where(e => e.Contains($" {typeof(UsageFlushService).FullName}[", StringComparison.Ordinal)).ToList();
        Assert.Equal(failed.FailedBatches, lines.Count);
        Assert.All(lines, line =>
        {
            Assert.StartsWith("Error ", line, StringComparison.Ordinal);
            Assert.Contains("usage rows failed; they will be written with the next flush.\nAzure.", line, StringComparison.Ordinal);
            Assert.Contains("\n   at ", line, StringComparison.Ordinal);
        });
        Assert.True((await flusher.FlushAsync(CancellationToken.None)).Complete);
    }
}
