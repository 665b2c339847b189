using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Gateway.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Gateway.Tests.Metering;

/// <summary>
/// The usage journal against SIGKILL (README, "Guarantees"): the gateway as its own process, killed the hard way and
/// started again on the same journal. Storage is read straight from Azurite. Each test prints what was sent, served,
/// counted, lost and counted twice.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class JournalCrashTests(Azurite azurite, ITestOutputHelper output) : GatewayTest(azurite)
{
    /// <summary>A commit is a write and an fsync, a few milliseconds; the tests wait far longer before the kill.</summary>
    private static readonly TimeSpan SeveralCommits = TimeSpan.FromMilliseconds(250);

    [Fact]
    public async Task HardKill_TwiceInARow_WithTheJournal_CountsEveryAnsweredCallExactlyOnce()
    {
        var prefix = TestGateway.NewTablePrefix();
        var settings = TestGateway.DefaultSettings(Azurite, Upstream, prefix);
        // Flushes run during the traffic, so storage holds part of the counts when the process dies: the replay must
        // complete them without counting any twice.
        settings["Gateway:Metering:FlushInterval"] = "00:00:00.700";
        string customer = "", key = "";
        long served = 0;

        for (var run = 1; run <= 2; run++)
        {
            await using var gateway = await GatewayProcess.StartAsync(settings);
            if (run == 1)
            {
                customer = await gateway.CreateCustomerAsync();
                key = await gateway.IssueKeyAsync(customer);
            }

            served += await SteadyTrafficAsync(gateway, key, TimeSpan.FromSeconds(2));
            await Task.Delay(SeveralCommits);
            gateway.Kill();
            output.WriteLine($"run {run}: served {served} so far, stored before the restart {await StoredUsage.HourlyTotalAsync(Azurite, prefix, customer)}");
        }

        await using (var last = await GatewayProcess.StartAsync(settings))
        {
            await StoredUsage.WaitForHourlyTotalAsync(Azurite, prefix, customer, served, TimeSpan.FromSeconds(20));
            await Task.Delay(TimeSpan.FromSeconds(1.5)); // two more flush intervals: a count written twice would show now
            var stored = await StoredUsage.HourlyTotalAsync(Azurite, prefix, customer);
            var month = await StoredUsage.MonthTotalAsync(Azurite, prefix, customer);
            output.WriteLine($"served {served}, counted {stored} (month rows {month}), lost {Math.Max(0, served - stored)}, counted twice {Math.Max(0, stored - served)}");
            Assert.Equal(served, stored);
            Assert.Equal(served, month);
        }
    }

    [Fact]
    public async Task HardKill_RightAfterTheLastAnswer_LosesAtMostTheCallsOfTheLastCommits_AndCountsNoneTwice()
    {
        var prefix = TestGateway.NewTablePrefix();
        var settings = TestGateway.DefaultSettings(Azurite, Upstream, prefix);
        settings["Gateway:Metering:FlushInterval"] = "00:05:00"; // nothing reaches storage but through the replay
        long served;
        string customer;
        var window = TimeSpan.FromMilliseconds(50);
        int inLastWindow;
        await using (var gateway = await GatewayProcess.StartAsync(settings))
        {
            customer = await gateway.CreateCustomerAsync();
            var key = await gateway.IssueKeyAsync(customer);
            var answered = new ConcurrentQueue<TimeSpan>();
            var clock = Stopwatch.StartNew();
            served = await SteadyTrafficAsync(gateway, key, TimeSpan.FromSeconds(2), answered, clock);
            var killedAt = clock.Elapsed;
            gateway.Kill();
            inLastWindow = answered.Count(t => t > killedAt - window);
        }

        settings["Gateway:Metering:FlushInterval"] = "00:00:00.200";
        await using (var restarted = await GatewayProcess.StartAsync(settings))
        {
            var stored = await StoredUsage.WaitForHourlyTotalAsync(Azurite, prefix, customer, served, TimeSpan.FromSeconds(10));
            output.WriteLine($"served {served}, counted {stored}, lost {served - stored}; {inLastWindow} calls answered in the last {window.TotalMilliseconds} ms before the kill");
            Assert.InRange(stored, served - inLastWindow, served);
        }
    }

    [Fact]
    public async Task BlockingQuota_AcrossAHardKill_IsNotServedAgain()
    {
        var prefix = TestGateway.NewTablePrefix();
        var settings = TestGateway.DefaultSettings(Azurite, Upstream, prefix);
        settings["Gateway:Metering:FlushInterval"] = "00:05:00"; // the quota survives through the journal alone
        settings["Gateway:Plans:hundred:RequestsPerSecond"] = "100000";
        settings["Gateway:Plans:hundred:Burst"] = "100000";
        settings["Gateway:Plans:hundred:MonthlyQuota"] = "100";
        settings["Gateway:Plans:hundred:OverQuota"] = "Block";
        settings["Gateway:Plans:hundred:RouteGroups:0"] = "alpha";
        string key;
        var ok = 0;
        await using (var gateway = await GatewayProcess.StartAsync(settings))
        {
            var customer = await gateway.CreateCustomerAsync();
            key = await gateway.IssueKeyAsync(customer, "hundred");
            var first = await ExactMeteringTests.SendAllAsync(gateway.Data, [.. Enumerable.Repeat((key, "alpha/1"), 60)], parallelism: 4);
            ok += first.Count(s => s == HttpStatusCode.OK);
            await Task.Delay(SeveralCommits);
            gateway.Kill();
        }

        for (var run = 2; run <= 3; run++)
        {
            await using var gateway = await GatewayProcess.StartAsync(settings);
            var statuses = await ExactMeteringTests.SendAllAsync(gateway.Data, [.. Enumerable.Repeat((key, "alpha/1"), 80)], parallelism: 4);
            ok += statuses.Count(s => s == HttpStatusCode.OK);
            Assert.All(statuses, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, $"{s}"));
            await Task.Delay(SeveralCommits);
            gateway.Kill();
            output.WriteLine($"after run {run}: served {ok} of a quota of 100");
        }

        Assert.Equal(100, ok);
    }

    [Fact]
    public async Task StorageOutage_ThenAHardKill_ServesCachedKeys_RefusesUnknownOnes_AndStoresEveryCallOnceStorageIsBack()
    {
        await using var storage = StorageFaultProxy.Start(Azurite);
        var prefix = TestGateway.NewTablePrefix();
        var settings = TestGateway.DefaultSettings(Azurite, Upstream, prefix);
        settings["Gateway:Storage:ConnectionString"] = storage.ConnectionString;
        settings["Gateway:Keys:VerifyTimeout"] = "00:00:00.500";
        string customer;
        var served = 0;
        await using (var gateway = await GatewayProcess.StartAsync(settings))
        {
            customer = await gateway.CreateCustomerAsync();
            var key = await gateway.IssueKeyAsync(customer);
            var notInMemory = await gateway.IssueKeyAsync(customer);
            served += (await ExactMeteringTests.SendAllAsync(gateway.Data, [(key, "alpha/warm")], parallelism: 1)).Count(s => s == HttpStatusCode.OK);

            storage.Refuse();
            var statuses = await ExactMeteringTests.SendAllAsync(gateway.Data, [.. Enumerable.Repeat((key, "alpha/1"), 200)], parallelism: 4);
            using var unknown = await gateway.Data.SendAsync(TestGateway.Get("alpha/1", notInMemory));
            served += statuses.Count(s => s == HttpStatusCode.OK);
            Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s)); // no 5xx for a cached key
            await Problems.AssertAsync(unknown, 503, "urn:gateway:problem:storage-unavailable"); // fail-closed for a key not in memory

            await Task.Delay(SeveralCommits);
            gateway.Kill(); // during the outage: no flush got through
        }

        Assert.True(await StoredUsage.HourlyTotalAsync(Azurite, prefix, customer) < served);
        storage.Restore();
        await using (var restarted = await GatewayProcess.StartAsync(settings))
        {
            await StoredUsage.WaitForHourlyTotalAsync(Azurite, prefix, customer, served, TimeSpan.FromSeconds(15));
            await Task.Delay(TimeSpan.FromSeconds(0.6)); // three more flushes: a call counted twice would show now
            var stored = await StoredUsage.HourlyTotalAsync(Azurite, prefix, customer);
            output.WriteLine($"sent 201 with a cached key, served {served}, counted {stored}, lost {Math.Max(0, served - stored)}, counted twice {Math.Max(0, stored - served)}");
            Assert.Equal(served, stored);
            Assert.Equal(served, await StoredUsage.MonthTotalAsync(Azurite, prefix, customer));
        }
    }

    [Fact]
    public async Task Restart_OnAJournalCutInTheMiddleOfARecord_StartsAndWarns_AndCountsNoneTwice()
    {
        var prefix = TestGateway.NewTablePrefix();
        var settings = TestGateway.DefaultSettings(Azurite, Upstream, prefix);
        settings["Gateway:Metering:FlushInterval"] = "00:05:00";
        settings["Gateway:Metering:InstanceId"] = "torn";
        long served;
        string customer;
        await using (var gateway = await GatewayProcess.StartAsync(settings))
        {
            customer = await gateway.CreateCustomerAsync();
            var key = await gateway.IssueKeyAsync(customer);
            served = await SteadyTrafficAsync(gateway, key, TimeSpan.FromSeconds(1));
            await Task.Delay(SeveralCommits);
            gateway.Kill();
        }

        var segment = Directory.GetFiles(Path.Combine(settings["Gateway:Metering:Journal:Path"]!, "torn"), "*.log").Order(StringComparer.Ordinal).Last();
        using (var file = new FileStream(segment, FileMode.Open))
        {
            file.SetLength(file.Length - 7);
        }

        settings["Gateway:Metering:FlushInterval"] = "00:00:00.200";
        await using (var restarted = await GatewayProcess.StartAsync(settings))
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            var stored = await StoredUsage.HourlyTotalAsync(Azurite, prefix, customer);
            output.WriteLine($"served {served}, counted {stored} after cutting the last record");
            Assert.Contains(restarted.Output, line => line.Contains("cut short or damaged", StringComparison.Ordinal));
            Assert.InRange(stored, 1, served);
        }
    }

    /// <summary>Four clients calling one after another for <paramref name="duration"/>; returns how many got 200.</summary>
    private static async Task<long> SteadyTrafficAsync(GatewayProcess gateway, string key, TimeSpan duration, ConcurrentQueue<TimeSpan>? answered = null, Stopwatch? clock = null)
    {
        clock ??= Stopwatch.StartNew();
        var start = clock.Elapsed;
        long ok = 0;
        await Parallel.ForAsync(0, 4, async (_, ct) =>
        {
            while (clock.Elapsed - start < duration)
            {
                using var response = await gateway.Data.SendAsync(TestGateway.Get("alpha/1", key), ct);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                answered?.Enqueue(clock.Elapsed);
                Interlocked.Increment(ref ok);
            }
        });
        return ok;
    }
}
