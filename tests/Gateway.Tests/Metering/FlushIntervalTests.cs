using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Gateway.Tests.Metering;

/// <summary>
/// The interval flush and the crash window (README, "Loss window"): counts reach storage every FlushInterval while the
/// gateway runs, and a hard crash loses at most what was counted since the last successful flush. Storage is read
/// straight from Azurite; nothing here stops a gateway gracefully or asks it to flush.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class FlushIntervalTests(Azurite azurite, ITestOutputHelper output) : GatewayTest(azurite)
{
    [Fact]
    public async Task IntervalFlush_OnEachTickOfTheClock_StoresWhatWasCounted_WithoutAnyStop()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 15, 10, 0, 0, TimeSpan.Zero));
        await using var gateway = await StartGatewayAsync(
            settings: s => s["Gateway:Metering:FlushInterval"] = "00:01:00",
            services: s => s.AddSingleton<TimeProvider>(time));
        var customer = await gateway.CreateCustomerAsync();
        var key = (await gateway.IssueKeyAsync(customer)).Key;

        await ExactMeteringTests.SendAllAsync(gateway.Data, [.. Enumerable.Repeat((key, "alpha/1"), 20)], parallelism: 4);
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(20, await StoredUsage.WaitForHourlyTotalAsync(Azurite, gateway.TablePrefix, customer, 20, TimeSpan.FromSeconds(10)));

        await ExactMeteringTests.SendAllAsync(gateway.Data, [.. Enumerable.Repeat((key, "beta/1"), 5)], parallelism: 1);
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(25, await StoredUsage.WaitForHourlyTotalAsync(Azurite, gateway.TablePrefix, customer, 25, TimeSpan.FromSeconds(10)));
        Assert.Equal(25, await StoredUsage.MonthTotalAsync(Azurite, gateway.TablePrefix, customer));
    }

    [Fact]
    public async Task HardKill_OfTheGatewayProcess_LosesAtMostTheCallsSinceTheLastIntervalFlush_AndNeverCountsTooMany()
    {
        var interval = TimeSpan.FromMilliseconds(300);
        // A flush that was writing when the process died does not count: the last successful one can be one interval,
        // plus a write and some timer lag on a busy machine, older than the kill.
        var window = interval + TimeSpan.FromMilliseconds(700);
        var prefix = TestGateway.NewTablePrefix();
        var settings = TestGateway.DefaultSettings(Azurite, Upstream, prefix);
        settings["Gateway:Metering:FlushInterval"] = interval.ToString();
        settings["Gateway:Metering:Journal:Enabled"] = "false"; // the in-memory path's window; with the journal: JournalCrashTests
        await using var gateway = await GatewayProcess.StartAsync(settings);
        var customer = await gateway.CreateCustomerAsync();
        var key = await gateway.IssueKeyAsync(customer);

        // While the process runs, the interval flush stores every count: no stop, no flush asked for.
        var first = await ExactMeteringTests.SendAllAsync(gateway.Data, [.. Enumerable.Repeat((key, "alpha/1"), 100)], parallelism: 4);
        Assert.All(first, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(100, await StoredUsage.WaitForHourlyTotalAsync(Azurite, prefix, customer, 100, TimeSpan.FromSeconds(15)));
        Assert.Equal(100, await StoredUsage.MonthTotalAsync(Azurite, prefix, customer));

        // Then steady traffic over several intervals, and SIGKILL right after the last answer.
        var clock = Stopwatch.StartNew();
        var answered = new ConcurrentQueue<TimeSpan>();
        await Parallel.ForAsync(0, 4, async (_, ct) =>
        {
            while (clock.Elapsed < TimeSpan.FromSeconds(3))
            {
                using var response = await gateway.Data.SendAsync(TestGateway.Get("alpha/2", key), ct);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                answered.Enqueue(clock.Elapsed);
            }
        });
        var killedAt = clock.Elapsed;
        gateway.Kill();

        var served = 100 + answered.Count;
        var inLastWindow = answered.Count(t => t > killedAt - window);
        var stored = await SettledHourlyTotalAsync(prefix, customer);
        output.WriteLine($"served {served}, stored {stored}, lost {served - stored}; {inLastWindow} calls answered in the last {window.TotalMilliseconds} ms before the kill");

        Assert.InRange(stored, served - inLastWindow, served);
        Assert.InRange(await StoredUsage.MonthTotalAsync(Azurite, prefix, customer), served - inLastWindow, served);
    }

    /// <summary>The hourly total once it stops changing: Azurite may still be executing a write the gateway sent just before it died.</summary>
    private async Task<long> SettledHourlyTotalAsync(string prefix, string customer)
    {
        var last = await StoredUsage.HourlyTotalAsync(Azurite, prefix, customer);
        while (true)
        {
            await Task.Delay(250);
            var now = await StoredUsage.HourlyTotalAsync(Azurite, prefix, customer);
            if (now == last)
            {
                return now;
            }

            last = now;
        }
    }
}
