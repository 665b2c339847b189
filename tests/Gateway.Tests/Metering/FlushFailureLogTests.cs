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
}
