using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Gateway.Core.Customers;
using Gateway.Core.Plans;
using Gateway.Core.Problems;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Billing;

/// <summary>
/// Spend caps (issue #11 item 8), on a real gateway against Azurite: a cap turns a billing plan into a blocking one at
/// the calls it allows, so overage stops exactly there with 429 <c>spend-cap-reached</c>, the refused call is counted
/// as its own outcome and never billed, and a changed cap reaches a key already in the gateway's cache.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class SpendCapTests(Azurite azurite) : SharedGatewayTest(azurite)
{
    protected override void Settings(Dictionary<string, string?> settings)
    {
        // "open" includes 5 calls for 10.00 a month, then bills 2.00 a call (2,000 per 1,000).
        settings["Gateway:Plans:open:MonthlyQuota"] = "5";
        settings["Gateway:Plans:open:OverQuota"] = "Bill";
        settings["Gateway:Plans:open:PricePerMonth"] = "10";
        settings["Gateway:Plans:open:OveragePricePerThousand"] = "2000";
    }

    [Fact]
    public async Task SpendCap_OnACachedKeyOfABillingPlan_StopsOverageExactlyAtTheCap_AndRaisingItReadmits()
    {
        var customer = await Gateway.CreateCustomerAsync();
        var (_, key) = await Gateway.IssueKeyAsync(customer, "open");
        // No cap yet: the key is loaded and cached, and one call beyond the included five is billed as overage.
        await CallAsync(key, 6, HttpStatusCode.OK);

        // 16.00 = 10.00 + 3 calls of overage at 2.00: the 8th call is the last.
        await SetCapAsync(customer, 16m);
        await CallAsync(key, 2, HttpStatusCode.OK);
        using (var refused = await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", key)))
        {
            await Problems.AssertAsync(refused, 429, ProblemTypes.SpendCapReached);
            var now = TestClock.Instance.GetUtcNow();
            var untilJuly = (long)Math.Ceiling((new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(1) - now).TotalSeconds);
            Assert.Equal(untilJuly, refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds);
        }

        var preview = await PreviewAsync(customer);
        Assert.Equal((8, 3), (preview.GetProperty("billableCalls").GetInt64(), preview.GetProperty("overageCalls").GetInt64()));
        Assert.Equal(16m, preview.GetProperty("total").GetDecimal());
        var usage = await Gateway.UsageAsync(customer);
        Assert.Equal(1, Bucket(usage, "rejected-spend-cap"));
        Assert.Equal(8, Bucket(usage, "2xx"));

        // Raised to 20.00: two more calls, then refused again; removed: no ceiling at all.
        await SetCapAsync(customer, 20m);
        await CallAsync(key, 2, HttpStatusCode.OK);
        await CallAsync(key, 1, HttpStatusCode.TooManyRequests);
        await SetCapAsync(customer, null);
        await CallAsync(key, 3, HttpStatusCode.OK);

        var final = await PreviewAsync(customer);
        Assert.Equal((13, 8), (final.GetProperty("billableCalls").GetInt64(), final.GetProperty("overageCalls").GetInt64()));
        Assert.Equal(2, Bucket(await Gateway.UsageAsync(customer), "rejected-spend-cap"));
    }

    [Fact]
    public async Task SpendCap_BelowThePlansPrice_AllowsTheIncludedCallsOnly_AndIsReadBack()
    {
        var customer = await Gateway.CreateCustomerAsync();
        await SetCapAsync(customer, 0m);
        var (_, key) = await Gateway.IssueKeyAsync(customer, "open");

        await CallAsync(key, 5, HttpStatusCode.OK);
        await Problems.AssertAsync(await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", key)), 429, ProblemTypes.SpendCapReached);

        var setting = await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/customers/{customer}/spend-cap");
        Assert.Equal(0m, setting.GetProperty("monthlyCap").GetDecimal());
        Assert.Equal(0, (await PreviewAsync(customer)).GetProperty("overageCalls").GetInt64());
    }

    [Fact]
    public async Task SpendCap_OnABlockingPlan_LeavesItsQuotaInCharge()
    {
        var customer = await Gateway.CreateCustomerAsync();
        await SetCapAsync(customer, 0m);
        var (_, key) = await Gateway.IssueKeyAsync(customer, "narrow");

        await CallAsync(key, 7, HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("""{"monthlyCap":-0.01}""")]
    [InlineData("""{"monthlyCap":1.005}""")]
    [InlineData("""{"monthlyCap":100000000.01}""")]
    [InlineData("""{"monthlyCap":"ten"}""")]
    [InlineData("""{"monthlyCap":5,"currency":"usd"}""")]
    [InlineData("""{}""")]
    public async Task SetSpendCap_WithBadInput_Returns400_NamingTheField_AndChangesNothing(string body)
    {
        var customer = await Gateway.CreateCustomerAsync();
        await SetCapAsync(customer, 50m);

        using var response = await Gateway.Admin.PutAsync($"admin/v1/customers/{customer}/spend-cap", new StringContent(body, Encoding.UTF8, "application/json"));

        var problem = await Problems.AssertAsync(response, 400, ProblemTypes.InvalidRequest);
        Assert.True(problem.GetProperty("errors").EnumerateObject().Any(), problem.ToString());
        var setting = await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/customers/{customer}/spend-cap");
        Assert.Equal(50m, setting.GetProperty("monthlyCap").GetDecimal());
    }

    [Fact]
    public async Task SetSpendCap_OfAnUnknownCustomer_Returns404()
    {
        using var response = await Gateway.Admin.PutAsJsonAsync($"admin/v1/customers/{CustomerIds.New()}/spend-cap", new { monthlyCap = 5 });

        await Problems.AssertAsync(response, 404, ProblemTypes.NotFound);
    }

    [Theory]
    [InlineData("Bill", "10", "2000", null, long.MaxValue)] // no cap
    [InlineData("Block", "10", "2000", "16", long.MaxValue)] // a blocking plan's own quota decides
    [InlineData("Bill", "10", "0", "16", long.MaxValue)] // free overage: nothing to cap
    [InlineData("Bill", "10", "2000", "9.99", 5L)] // below the plan's price: the included calls
    [InlineData("Bill", "10", "2000", "16", 8L)] // 5 + 6.00 / 2.00
    [InlineData("Bill", "10", "2000", "15.99", 7L)] // floor: never a call the cap does not cover
    [InlineData("Bill", "50", "5", "50.01", 7L)] // 0.005 a call: 2 calls cost 0.01
    public void Ceiling_OfAPlanAndACap_IsTheIncludedCallsPlusTheOverageTheCapCovers(string overQuota, string price, string perThousand, string? cap, long ceiling)
    {
        var plan = new Plan("p", new PlanOptions
        {
            RequestsPerSecond = 1,
            Burst = 1,
            MonthlyQuota = 5,
            OverQuota = overQuota,
            RouteGroups = ["alpha"],
            PricePerMonth = decimal.Parse(price, CultureInfo.InvariantCulture),
            OveragePricePerThousand = decimal.Parse(perThousand, CultureInfo.InvariantCulture),
        });

        Assert.Equal(ceiling, SpendCap.Ceiling(plan, cap is null ? null : decimal.Parse(cap, CultureInfo.InvariantCulture)));
    }

    private async Task SetCapAsync(string customer, decimal? cap)
    {
        using var response = await Gateway.Admin.PutAsJsonAsync($"admin/v1/customers/{customer}/spend-cap", new { monthlyCap = cap });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var setting = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(cap is null ? JsonValueKind.Null : JsonValueKind.Number, setting.GetProperty("monthlyCap").ValueKind);
    }

    private Task<JsonElement> PreviewAsync(string customer) =>
        Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/billing/preview?customerId={customer}");

    private static long Bucket(JsonElement usage, string statusClass) =>
        usage.GetProperty("buckets").EnumerateArray().Where(b => b.GetProperty("statusClass").GetString() == statusClass).Sum(b => b.GetProperty("count").GetInt64());

    private async Task CallAsync(string key, int calls, HttpStatusCode expected)
    {
        for (var i = 0; i < calls; i++)
        {
            using var response = await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", key));
            Assert.Equal(expected, response.StatusCode);
        }
    }
}
