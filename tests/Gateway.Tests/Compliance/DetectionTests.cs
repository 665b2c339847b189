using System.Net;
using System.Net.Http.Json;
using Gateway.Compliance;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Compliance;

/// <summary>
/// Synthetic clients through the real gateway (distinct loopback source addresses simulate networks), then the
/// detection job: the right flag for each abusive client, none for the well-behaved one. The clock is a
/// <see cref="FakeTimeProvider"/> the round-the-clock client moves hour by hour.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class DetectionTests(Azurite azurite) : SharedGatewayTest(azurite)
{
    private readonly FakeTimeProvider _clock = new(TestClock.RunStart);

    protected override void Services(IServiceCollection services) => services.AddSingleton<TimeProvider>(_clock);

    protected override void Settings(Dictionary<string, string?> settings)
    {
        settings["Gateway:Compliance:FlushInterval"] = "01:00:00";
        settings["Gateway:Compliance:Plans:narrow:Purposes:0"] = "display";
        settings["Gateway:Compliance:Plans:narrow:MaxClientNetworks"] = "3";
        settings["Gateway:Compliance:Plans:narrow:MaxUserAgents"] = "3";
        settings["Gateway:Compliance:Plans:narrow:Detection:UnlicensedRouteAttempts"] = "3";
        settings["Gateway:Compliance:Plans:narrow:Detection:AttemptsAfterRevocation"] = "3";
        settings["Gateway:Compliance:Plans:narrow:Detection:RoundTheClockHours"] = "20";
        settings["Gateway:Compliance:Plans:narrow:Detection:HarvestingCalls"] = "60";
        settings["Gateway:Plans:tiny:RequestsPerSecond"] = "100000";
        settings["Gateway:Plans:tiny:Burst"] = "100000";
        settings["Gateway:Plans:tiny:MonthlyQuota"] = "5";
        settings["Gateway:Plans:tiny:OverQuota"] = "Block";
        settings["Gateway:Plans:tiny:RouteGroups:0"] = "alpha";
        settings["Gateway:Compliance:Plans:tiny:Detection:CallsAfterExhaustion"] = "10";
        settings["Gateway:Plans:metered:RequestsPerSecond"] = "100000";
        settings["Gateway:Plans:metered:Burst"] = "100000";
        settings["Gateway:Plans:metered:MonthlyQuota"] = "4";
        settings["Gateway:Plans:metered:OverQuota"] = "Bill";
        settings["Gateway:Plans:metered:OveragePricePerThousand"] = "1";
        settings["Gateway:Plans:metered:RouteGroups:0"] = "alpha";
        settings["Gateway:Compliance:Plans:metered:Detection:OverQuotaBillMultiple"] = "2.5";
    }

    [Fact]
    public async Task WellBehavedDisplayApp_FromOneNetworkInDaytime_RaisesNoFlag()
    {
        var (id, key) = await KeyAsync("narrow");
        using var app = SyntheticClients.From(Gateway, "127.0.1.10", "display-app/1.0");
        for (var hour = 0; hour < 8; hour++)
        {
            await CallsAsync(app, key, "alpha/posts", 5, HttpStatusCode.OK);
            _clock.Advance(TimeSpan.FromHours(1));
        }

        var raised = await ScanAsync();

        Assert.DoesNotContain(raised, f => f.KeyId == id);
        Assert.Empty(await FlagsAsync(id));
    }

    [Fact]
    public async Task KeyUsedFromManyNetworks_RaisesKeySharing_WithTheNetworkCount()
    {
        var (id, key) = await KeyAsync("narrow");
        for (var network = 1; network <= 8; network++)
        {
            using var client = SyntheticClients.From(Gateway, $"127.0.{network}.20", "display-app/1.0");
            await CallsAsync(client, key, "alpha/posts", 2, HttpStatusCode.OK);
        }

        await ScanAsync();

        var flag = Assert.Single(await FlagsAsync(id));
        Assert.Equal((FlagKinds.KeySharing, FlagStatuses.Open, FlagSeverities.High), (flag.Kind, flag.Status, flag.Severity));
        Assert.Equal(8, flag.Evidence["maxNetworksInAnHour"]);
        Assert.Equal(3, flag.Evidence["licensedNetworks"]);
        Assert.Contains("127.0.", flag.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientCallingRoutesOutsideItsLicence_RaisesUnlicensedRoute()
    {
        var (id, key) = await KeyAsync("narrow");
        using var client = SyntheticClients.From(Gateway, "127.0.1.30", "crawler/0.1");
        await CallsAsync(client, key, "alpha/posts", 3, HttpStatusCode.OK);
        await CallsAsync(client, key, "beta/archive", 5, HttpStatusCode.Forbidden);

        await ScanAsync();

        var flag = Assert.Single(await FlagsAsync(id));
        Assert.Equal(FlagKinds.UnlicensedRoute, flag.Kind);
        Assert.Equal(5, flag.Evidence["attempts"]);
    }

    [Fact]
    public async Task RevokedKeyRetried_RaisesUseAfterRevocation()
    {
        var (id, key) = await KeyAsync("narrow");
        using var client = SyntheticClients.From(Gateway, "127.0.1.40", "app/1.0");
        await CallsAsync(client, key, "alpha/posts", 2, HttpStatusCode.OK);
        (await Gateway.Admin.PostAsync($"admin/v1/keys/{id}/revoke", null)).EnsureSuccessStatusCode();
        await CallsAsync(client, key, "alpha/posts", 4, HttpStatusCode.Unauthorized);

        await ScanAsync();

        var flag = Assert.Single(await FlagsAsync(id));
        Assert.Equal((FlagKinds.UseAfterRevocation, FlagSeverities.High), (flag.Kind, flag.Severity));
        Assert.Equal(4, flag.Evidence["attempts"]);
    }

    [Fact]
    public async Task BlockingPlanClientHammeringAfterExhaustion_RaisesOverQuota()
    {
        var (id, key) = await KeyAsync("tiny");
        using var client = SyntheticClients.From(Gateway, "127.0.1.50", "batch/1.0");
        await CallsAsync(client, key, "alpha/posts", 5, HttpStatusCode.OK);
        await CallsAsync(client, key, "alpha/posts", 15, HttpStatusCode.TooManyRequests);

        await ScanAsync();

        var flag = Assert.Single(await FlagsAsync(id));
        Assert.Equal(FlagKinds.OverQuota, flag.Kind);
        Assert.Equal(15, flag.Evidence["callsAfterExhaustion"]);
        Assert.Equal(5, flag.Evidence["monthlyQuota"]);
    }

    [Fact]
    public async Task BillingPlanKeyPastTheMultiple_RaisesOneOverQuotaFlag_ThatGrows()
    {
        var (id, key) = await KeyAsync("metered");
        using var client = SyntheticClients.From(Gateway, "127.0.1.51", "batch/1.0");
        await CallsAsync(client, key, "alpha/posts", 8, HttpStatusCode.OK);
        _clock.Advance(TimeSpan.FromHours(1));
        await CallsAsync(client, key, "alpha/posts", 3, HttpStatusCode.OK);
        // Not billable on the plan (429 is outside the default billable set): must not count towards the month.
        await CallsAsync(client, key, "alpha/status/429", 5, HttpStatusCode.TooManyRequests);
        var crossed = TestClock.RunStart.AddHours(1);

        // Advancing the clock may also run the gateway's own timed scan: the flags table, not one run's answer, is the outcome.
        await ScanAsync();
        var first = Assert.Single(await FlagsAsync(id));
        _clock.Advance(TimeSpan.FromHours(1));
        await CallsAsync(client, key, "alpha/posts", 12, HttpStatusCode.OK);
        await ScanAsync();

        var flag = Assert.Single(await FlagsAsync(id));
        Assert.Equal(first.Id, flag.Id);
        Assert.Equal((FlagKinds.OverQuota, FlagStatuses.Open, FlagSeverities.High), (flag.Kind, flag.Status, flag.Severity));
        Assert.Equal(23, flag.Evidence["billableCalls"]);
        Assert.Equal(4, flag.Evidence["includedCalls"]);
        Assert.Equal(250, flag.Evidence["multiplePercent"]);
        Assert.Equal(10, flag.Evidence["threshold"]);
        Assert.Equal(203006, flag.Evidence["month"]);
        Assert.Equal((crossed, crossed.AddHours(2)), (flag.From, flag.To));
        Assert.Contains("23 billable calls in 2030-06", flag.Summary, StringComparison.Ordinal);
        Assert.Contains("2.5 times", flag.Summary, StringComparison.Ordinal);
        Assert.Equal((11L, FlagSeverities.Medium, crossed, crossed.AddHours(1)), (first.Evidence["billableCalls"], first.Severity, first.From, first.To));
    }

    [Fact]
    public async Task BillingPlanKeyUnderTheMultiple_RaisesNoFlag()
    {
        var (id, key) = await KeyAsync("metered");
        using var client = SyntheticClients.From(Gateway, "127.0.1.52", "batch/1.0");
        await CallsAsync(client, key, "alpha/posts", 10, HttpStatusCode.OK);

        var raised = await ScanAsync();

        Assert.DoesNotContain(raised, f => f.KeyId == id);
        Assert.Empty(await FlagsAsync(id));
    }

    [Fact]
    public async Task DisplayKeyActiveRoundTheClock_RaisesBulkHarvesting_ButNotAfterFewerHours()
    {
        var (id, key) = await KeyAsync("narrow");
        using var harvester = SyntheticClients.From(Gateway, "127.0.1.60", "harvester/1.0");
        for (var hour = 0; hour < 19; hour++)
        {
            await CallsAsync(harvester, key, "alpha/posts", 4, HttpStatusCode.OK);
            _clock.Advance(TimeSpan.FromHours(1));
        }

        var after19Hours = await ScanAsync();
        for (var hour = 19; hour < 23; hour++)
        {
            await CallsAsync(harvester, key, "alpha/posts", 4, HttpStatusCode.OK);
            _clock.Advance(TimeSpan.FromHours(1));
        }

        await ScanAsync();

        Assert.DoesNotContain(after19Hours, f => f.KeyId == id);
        var flag = Assert.Single(await FlagsAsync(id));
        Assert.Equal(FlagKinds.BulkHarvesting, flag.Kind);
        Assert.Equal(23, flag.Evidence["activeHoursOfLast24"]);
        Assert.Equal(92, flag.Evidence["calls"]);
        Assert.Equal("display", flag.Purpose);
    }

    [Fact]
    public async Task ConcurrentScans_OfOneOngoingBehaviour_RaiseOneFlag_ThatGrows()
    {
        var (id, key) = await KeyAsync("narrow");
        using var client = SyntheticClients.From(Gateway, "127.0.1.70", "crawler/0.1");
        var scan = Gateway.Services.GetRequiredService<ComplianceScan>();
        for (var round = 1; round <= 3; round++)
        {
            await CallsAsync(client, key, "beta/archive", 4, HttpStatusCode.Forbidden);
            await Gateway.Services.GetRequiredService<EvidenceRecorder>().FlushAsync(default);
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var scans = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
            {
                await start.Task;
                return await scan.RunAsync(default);
            })).ToList();
            start.SetResult();
            await Task.WhenAll(scans);

            var flag = Assert.Single(await FlagsAsync(id));
            Assert.Equal(4L * round, flag.Evidence["attempts"]);
        }
    }

    private async Task<(string Id, string Key)> KeyAsync(string plan)
    {
        var customer = await Gateway.CreateCustomerAsync();
        using var response = await Gateway.Admin.PostAsJsonAsync("admin/v1/keys", new { customerId = customer, plan });
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        return (body.GetProperty("id").GetString()!, body.GetProperty("key").GetString()!);
    }

    private static async Task CallsAsync(HttpClient client, string key, string path, int count, HttpStatusCode expected)
    {
        for (var i = 0; i < count; i++)
        {
            using var response = await client.SendAsync(TestGateway.Get(path, key));
            Assert.Equal(expected, response.StatusCode);
        }
    }

    private async Task<IReadOnlyList<ComplianceFlag>> ScanAsync()
    {
        await Gateway.Services.GetRequiredService<EvidenceRecorder>().FlushAsync(default);
        return await Gateway.Services.GetRequiredService<ComplianceScan>().RunAsync(default);
    }

    private Task<IReadOnlyList<ComplianceFlag>> FlagsAsync(string keyId) =>
        Gateway.Services.GetRequiredService<FlagTable>().ForKeyAsync(keyId, default);
}
