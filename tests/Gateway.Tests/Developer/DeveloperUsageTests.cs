using System.Net;
using System.Text.Json;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Developer;

[Collection(UsesAzurite.Name)]
public sealed class DeveloperUsageTests(Azurite azurite) : SharedGatewayTest(azurite)
{
    protected override void Settings(Dictionary<string, string?> settings)
    {
        settings["Gateway:Plans:open:MonthlyQuota"] = "1000";
        settings["Gateway:Plans:open:Burst"] = "50";

        // A token every 1,000 s: the bucket's level only changes by the calls this test makes.
        settings["Gateway:Plans:open:RequestsPerSecond"] = "0.001";
    }

    [Fact]
    public async Task Usage_ShowsPlanPeriodAndRemainingCalls_AndIsNotItselfCounted()
    {
        var customer = await Gateway.CreateCustomerAsync();
        var (keyId, key) = await Gateway.IssueKeyAsync(customer);
        for (var i = 0; i < 7; i++)
        {
            (await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", key))).Dispose();
        }

        JsonElement usage = default;
        for (var i = 0; i < 3; i++)
        {
            using var response = await Gateway.Data.SendAsync(TestGateway.Get("_gateway/usage", key));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("50", response.Headers.GetValues("X-RateLimit-Limit").Single());
            Assert.Equal("43", response.Headers.GetValues("X-RateLimit-Remaining").Single());
            usage = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        }

        Assert.Equal(keyId, usage.GetProperty("keyId").GetString());
        Assert.Equal("open", usage.GetProperty("plan").GetString());
        Assert.Equal(7, usage.GetProperty("used").GetInt64());
        Assert.Equal(1000, usage.GetProperty("included").GetInt64());
        Assert.Equal(993, usage.GetProperty("remaining").GetInt64());
        // The period of the gateway's (injected) clock, not of the machine's.
        Assert.Equal(new DateTimeOffset(2030, 6, 1, 0, 0, 0, TimeSpan.Zero), usage.GetProperty("periodStart").GetDateTimeOffset());
        Assert.Equal(new DateTimeOffset(2030, 7, 1, 0, 0, 0, TimeSpan.Zero), usage.GetProperty("periodEnd").GetDateTimeOffset());
        var rateLimit = usage.GetProperty("rateLimit");
        Assert.Equal(50, rateLimit.GetProperty("burst").GetInt32());
        Assert.Equal(0.001, rateLimit.GetProperty("requestsPerSecond").GetDouble());
        Assert.Equal(43, rateLimit.GetProperty("remaining").GetInt32());
        Assert.Equal(["alpha", "beta", "gamma"], usage.GetProperty("routeGroups").EnumerateArray().Select(g => g.GetString()));
        Assert.Equal(7, (await Gateway.UsageAsync(customer)).GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task Usage_WithoutAValidKey_ReturnsTheSameProblemsAsTheApi()
    {
        using var missing = await Gateway.Data.SendAsync(TestGateway.Get("_gateway/usage", key: null));
        using var malformed = await Gateway.Data.SendAsync(TestGateway.Get("_gateway/usage", "gw_test_nope"));

        await Problems.AssertAsync(missing, 401, "urn:gateway:problem:missing-api-key");
        await Problems.AssertAsync(malformed, 401, "urn:gateway:problem:malformed-api-key");
    }

    [Fact]
    public async Task Usage_IsNotServedOnTheAdminPort()
    {
        var customer = await Gateway.CreateCustomerAsync();
        var (_, key) = await Gateway.IssueKeyAsync(customer);

        using var response = await Gateway.Admin.SendAsync(TestGateway.Get("_gateway/usage", key));

        await Problems.AssertAsync(response, 404, "urn:gateway:problem:route-not-found");
    }
}
