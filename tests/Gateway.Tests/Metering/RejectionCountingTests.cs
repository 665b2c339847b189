using Gateway.Proxy.Metering;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Metering;

/// <summary>README, "How calls are counted": a known key's refusals are counted by reason and never billed.</summary>
[Collection(UsesAzurite.Name)]
public sealed class RejectionCountingTests(Azurite azurite) : GatewayTest(azurite)
{
    [Fact]
    public async Task Refusals_OfAKnownKey_AreCountedByReason_AndNeverAsBillableCalls()
    {
        // The clock stands still: the bucket of 3 never refills, and the quota of 2 is the month's.
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 15, 10, 0, 0, TimeSpan.Zero));
        await using var gateway = await StartGatewayAsync(
            settings: s =>
            {
                s["Gateway:Metering:FlushInterval"] = "00:05:00";
                s["Gateway:Plans:narrow:RequestsPerSecond"] = "1";
                s["Gateway:Plans:narrow:Burst"] = "3";
                s["Gateway:Plans:narrow:MonthlyQuota"] = "2";
            },
            services: s => s.AddSingleton<TimeProvider>(time));
        var customer = await gateway.CreateCustomerAsync();
        var (id, key) = await gateway.IssueKeyAsync(customer, plan: "narrow");

        await CallAsync(gateway, key, "beta/1", 403, "urn:gateway:problem:route-not-in-plan");
        await CallAsync(gateway, key, "gamma/1", 403, "urn:gateway:problem:route-not-in-plan");
        await CallAsync(gateway, key, "alpha/1", 200, null);
        await CallAsync(gateway, key, "alpha/2", 200, null);
        await CallAsync(gateway, key, "alpha/3", 429, "urn:gateway:problem:quota-exhausted");
        await CallAsync(gateway, key, "alpha/4", 429, "urn:gateway:problem:rate-limited");
        (await gateway.Admin.PostAsync($"admin/v1/keys/{id}/suspend", null)).EnsureSuccessStatusCode();
        await CallAsync(gateway, key, "alpha/5", 402, "urn:gateway:problem:key-suspended");

        var report = await gateway.UsageAsync(customer);
        Assert.Equal(2, report.GetProperty("total").GetInt64());
        Assert.Equal(5, report.GetProperty("rejected").GetInt64());

        Assert.True((await gateway.Services.GetRequiredService<UsageFlushService>().FlushAsync(CancellationToken.None)).Complete);
        var stored = await StoredUsage.HourlyByOutcomeAsync(Azurite, gateway.TablePrefix, customer);
        Assert.Equal(
            new Dictionary<string, long>
            {
                ["2xx"] = 2,
                ["rejected-quota-exhausted"] = 1,
                ["rejected-rate-limited"] = 1,
                ["rejected-route-not-in-plan"] = 2,
                ["rejected-suspended"] = 1,
            },
            stored.OrderBy(o => o.Key, StringComparer.Ordinal).ToDictionary());
        // The month row, which quotas and billing read, holds the forwarded calls only.
        Assert.Equal(2, await StoredUsage.MonthTotalAsync(Azurite, gateway.TablePrefix, customer));
    }

    private static async Task CallAsync(TestGateway gateway, string key, string path, int status, string? problemType)
    {
        using var response = await gateway.Data.SendAsync(TestGateway.Get(path, key));
        if (problemType is null)
        {
            Assert.Equal(status, (int)response.StatusCode);
        }
        else
        {
            await Problems.AssertAsync(response, status, problemType);
        }
    }
}
