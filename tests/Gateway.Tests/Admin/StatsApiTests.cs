using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Proxy.Metering;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Admin;

[Collection(UsesAzurite.Name)]
public sealed class StatsApiTests(Azurite azurite) : SharedGatewayTest(azurite)
{
    // Flushes only when the test asks, so the table operations it sees are its own.
    protected override void Settings(Dictionary<string, string?> settings) => settings["Gateway:Metering:FlushInterval"] = "00:05:00";

    [Fact]
    public async Task Stats_CountStorageRequestsAndFlushTransactions_AsTheyHappen()
    {
        var customer = await Gateway.CreateCustomerAsync();
        var (_, key) = await Gateway.IssueKeyAsync(customer);
        var before = await StatsAsync();

        using (var first = await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", key)))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        var afterFirstCall = await StatsAsync();
        for (var i = 0; i < 10; i++)
        {
            (await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", key))).Dispose();
        }

        var afterCachedCalls = await StatsAsync();
        var flush = await Gateway.Services.GetRequiredService<UsageFlushService>().FlushAsync(CancellationToken.None);
        var afterFlush = await StatsAsync();

        // A new key is read from storage (the key, and its quota baseline); a cached one is not.
        Assert.True(Long(afterFirstCall, "storageRequests") > Long(before, "storageRequests"), "The first call of a new key reads storage.");
        Assert.Equal(Long(afterFirstCall, "storageRequests"), Long(afterCachedCalls, "storageRequests"));
        Assert.Equal(Long(before, "tableOperations"), Long(afterCachedCalls, "tableOperations"));

        // One flush of one cell: one transaction (an hour row and a month row, one partition), one storage request.
        Assert.Equal(1, flush.Batches);
        Assert.Equal(1, Long(afterFlush, "tableOperations") - Long(afterCachedCalls, "tableOperations"));
        Assert.Equal(1, Long(afterFlush, "storageRequests") - Long(afterCachedCalls, "storageRequests"));

        Assert.True(Long(afterFlush, "allocatedBytes") > Long(before, "allocatedBytes"));

        // The usage journal (on by default) committed the calls: at most one commit per change (a quota count at
        // admission, a usage count at the end, for each of the 11 calls) and the flush's own.
        Assert.InRange(Long(afterFlush, "journalCommits") - Long(before, "journalCommits"), 1, (2 * 11) + 1);
        Assert.Equal(Gateway.Services.GetRequiredService<UsageRecorder>().Writer, afterFlush.GetProperty("writer").GetString());
    }

    [Fact]
    public async Task Stats_WithoutOrWithWrongToken_Returns401Problem()
    {
        using var anonymous = new HttpClient { BaseAddress = Gateway.Admin.BaseAddress };
        using var none = await anonymous.GetAsync("admin/v1/stats");
        anonymous.DefaultRequestHeaders.Authorization = new("Bearer", TestGateway.AdminToken + "x");
        using var wrong = await anonymous.GetAsync("admin/v1/stats");

        await Problems.AssertAsync(none, 401, "urn:gateway:problem:admin-unauthorized");
        await Problems.AssertAsync(wrong, 401, "urn:gateway:problem:admin-unauthorized");
    }

    [Fact]
    public async Task Stats_OnTheDataPort_Returns404Problem_EvenWithTheAdminToken()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "admin/v1/stats");
        request.Headers.Authorization = new("Bearer", TestGateway.AdminToken);

        using var response = await Gateway.Data.SendAsync(request);

        await Problems.AssertAsync(response, 404, "urn:gateway:problem:route-not-found");
    }

    private async Task<JsonElement> StatsAsync() => await Gateway.Admin.GetFromJsonAsync<JsonElement>("admin/v1/stats");

    private static long Long(JsonElement stats, string name) => stats.GetProperty(name).GetInt64();
}
