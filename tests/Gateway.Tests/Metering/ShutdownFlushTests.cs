using Gateway.Proxy.Metering;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using static Gateway.Proxy.Telemetry.TelemetryNames;

namespace Gateway.Tests.Metering;

/// <summary>
/// The shutdown flush (README, "Loss window"): a graceful stop writes what was counted, retrying every
/// <see cref="UsageFlushService.ShutdownRetryDelay"/> while storage refuses, until <see cref="UsageFlushService.ShutdownFlushDeadline"/>;
/// past it, one error says the counts are lost. Storage refuses through the <see cref="StorageSwitch"/>; the retry
/// and the deadline run on a <see cref="FakeTimeProvider"/> the test moves one retry at a time, so every attempt is
/// seen (one warning per failed batch) and nothing waits on the real clock.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class ShutdownFlushTests(Azurite azurite) : GatewayTest(azurite)
{
    private static readonly string Flusher = $" {typeof(UsageFlushService).FullName}[";

    [Fact]
    public async Task GracefulStop_WhileStorageRefuses_RetriesEveryRetryDelay_UntilTheDeadline_ThenLogsThatTheCountsAreLost()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2030, 6, 15, 12, 0, 0, TimeSpan.Zero));
        var storage = new StorageSwitch();
        var logs = new CapturedLogs();
        await using var gateway = await StartAsync(time, storage, logs);
        using var metrics = MetricCapture.Of(gateway);
        var (customer, perAttempt) = await CountThenRefuseAsync(gateway, storage, logs);
        try
        {
            var stopping = gateway.StopAsync();

            // One attempt as the stop begins, then one per retry delay: the attempt at the deadline itself is not made.
            var attempts = (int)(UsageFlushService.ShutdownFlushDeadline / UsageFlushService.ShutdownRetryDelay);
            await ExpectFailedBatchesAsync(logs, perAttempt * 2);
            for (var attempt = 2; attempt <= attempts; attempt++)
            {
                Assert.False(stopping.IsCompleted);
                time.Advance(UsageFlushService.ShutdownRetryDelay);
                await ExpectFailedBatchesAsync(logs, perAttempt * (attempt + 1));
            }

            Assert.False(stopping.IsCompleted);
            Assert.Empty(Errors(logs));
            time.Advance(UsageFlushService.ShutdownRetryDelay);
            await stopping.WaitAsync(TimeSpan.FromSeconds(30));

            Assert.Equal(perAttempt * (attempts + 1), FailedBatches(logs));
            var error = Assert.Single(Errors(logs));
            Assert.Contains("counts since the last successful flush are lost", error, StringComparison.Ordinal);

            // Every attempt is reported as an incomplete flush, and each failed batch is counted.
            Assert.Equal(perAttempt * (attempts + 1), metrics.Of(FlushFailures).Sum(m => m.Value));
            var flushes = metrics.Of(FlushDuration);
            Assert.Equal(attempts + 1, flushes.Count);
            Assert.All(flushes, f => Assert.Equal(Incomplete, f.Tag(FlushResultTag)));
            Assert.Equal(0, await StoredUsage.HourlyTotalAsync(Azurite, gateway.TablePrefix, customer));
        }
        finally
        {
            // A repeated stop (the dispose) then finds storage answering.
            storage.Answer();
        }
    }

    [Fact]
    public async Task GracefulStop_WhenStorageAnswersAgainBeforeTheDeadline_StoresEveryCount_AndLogsNoError()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2030, 6, 15, 12, 0, 0, TimeSpan.Zero));
        var storage = new StorageSwitch();
        var logs = new CapturedLogs();
        await using var gateway = await StartAsync(time, storage, logs);
        using var metrics = MetricCapture.Of(gateway);
        var (customer, perAttempt) = await CountThenRefuseAsync(gateway, storage, logs);

        var stopping = gateway.StopAsync();
        await ExpectFailedBatchesAsync(logs, perAttempt * 2);
        time.Advance(UsageFlushService.ShutdownRetryDelay);
        await ExpectFailedBatchesAsync(logs, perAttempt * 3);
        Assert.False(stopping.IsCompleted);

        storage.Answer();
        time.Advance(UsageFlushService.ShutdownRetryDelay);
        await stopping.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(3, await StoredUsage.HourlyTotalAsync(Azurite, gateway.TablePrefix, customer));
        Assert.Equal(3, await StoredUsage.MonthTotalAsync(Azurite, gateway.TablePrefix, customer));
        Assert.Equal(perAttempt * 3, FailedBatches(logs));
        Assert.Empty(Errors(logs));
        Assert.Equal(Complete, metrics.Of(FlushDuration)[^1].Tag(FlushResultTag));
    }

    [Fact]
    public async Task GracefulStop_WithStorageAnswering_WritesOnce_AndLogsNoError()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2030, 6, 15, 12, 0, 0, TimeSpan.Zero));
        var storage = new StorageSwitch();
        var logs = new CapturedLogs();
        await using var gateway = await StartAsync(time, storage, logs);
        using var metrics = MetricCapture.Of(gateway);
        var customer = await gateway.CreateCustomerAsync();
        var key = (await gateway.IssueKeyAsync(customer)).Key;
        await ExactMeteringTests.SendAllAsync(gateway.Data, [.. Enumerable.Repeat((key, "alpha/1"), 3)], parallelism: 1);

        // The clock never moves: the stop neither waits for a retry nor for its deadline.
        await gateway.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(3, await StoredUsage.HourlyTotalAsync(Azurite, gateway.TablePrefix, customer));
        Assert.Equal(Complete, Assert.Single(metrics.Of(FlushDuration)).Tag(FlushResultTag));
        Assert.DoesNotContain(logs.Entries, e => e.Contains(Flusher, StringComparison.Ordinal));
    }

    private Task<TestGateway> StartAsync(FakeTimeProvider time, StorageSwitch storage, CapturedLogs logs) =>
        StartGatewayAsync(
            // An interval the test's clock reaches during the stop: an interval flush still running then would add attempts.
            settings: s => s["Gateway:Metering:FlushInterval"] = "00:00:05",
            services: s => s.AddSingleton<TimeProvider>(time).AddSingleton(storage.Options()).AddSingleton<ILoggerProvider>(logs));

    /// <summary>Three calls counted, then storage refuses; a flush shows how many batches each attempt fails.</summary>
    private static async Task<(string Customer, int PerAttempt)> CountThenRefuseAsync(TestGateway gateway, StorageSwitch storage, CapturedLogs logs)
    {
        var customer = await gateway.CreateCustomerAsync();
        var key = (await gateway.IssueKeyAsync(customer)).Key;
        await ExactMeteringTests.SendAllAsync(gateway.Data, [.. Enumerable.Repeat((key, "alpha/1"), 3)], parallelism: 1);

        storage.Refuse();
        var refused = await gateway.Services.GetRequiredService<UsageFlushService>().FlushAsync(CancellationToken.None);
        Assert.Equal(0, refused.Rows);
        Assert.InRange(refused.FailedBatches, 1, 10);
        Assert.Equal(refused.Batches, refused.FailedBatches);
        Assert.False(refused.Complete);
        Assert.Equal(refused.FailedBatches, FailedBatches(logs));
        return (customer, refused.FailedBatches);
    }

    /// <summary>Waits until the flush has logged <paramref name="expected"/> failed batches, and not one more.</summary>
    private static async Task ExpectFailedBatchesAsync(CapturedLogs logs, int expected)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (FailedBatches(logs) < expected && !timeout.IsCancellationRequested)
        {
            await Task.Delay(5);
        }

        Assert.Equal(expected, FailedBatches(logs));
    }

    private static int FailedBatches(CapturedLogs logs) =>
        logs.Entries.Count(e => e.StartsWith("Warning ", StringComparison.Ordinal) && e.Contains(Flusher, StringComparison.Ordinal));

    private static List<string> Errors(CapturedLogs logs) =>
        [.. logs.Entries.Where(e => e.StartsWith("Error ", StringComparison.Ordinal) && e.Contains(Flusher, StringComparison.Ordinal))];
}
