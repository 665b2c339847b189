using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Billing.Invoices;
using Gateway.Core.Keys;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Billing;

/// <summary>
/// <c>GET /admin/v1/billing/preview</c>: without a Stripe key (a dry run) an admin sees what the invoice will say, and
/// it matches the usage the gateway counted: per key the plan's price, and billable calls beyond the included ones at
/// the overage price.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class InvoicePreviewTests(Azurite azurite) : SharedGatewayTest(azurite)
{
    protected override void Settings(Dictionary<string, string?> settings)
    {
        // "open" bills beyond 5 calls a month at 2.00 per 1,000; "narrow" blocks at its quota.
        settings["Gateway:Plans:open:MonthlyQuota"] = "5";
        settings["Gateway:Plans:open:OverQuota"] = "Bill";
        settings["Gateway:Plans:open:PricePerMonth"] = "10";
        settings["Gateway:Plans:open:OveragePricePerThousand"] = "2000";
        settings["Gateway:Plans:narrow:PricePerMonth"] = "3.5";
    }

    [Fact]
    public async Task Preview_InDryRun_ChargesEachKeysPlan_AndTheCallsBeyondItsQuota_AsTheGatewayCountedThem()
    {
        var customer = await Gateway.CreateCustomerAsync();
        var (busy, busyKey) = await Gateway.IssueKeyAsync(customer, "open");
        var (quiet, quietKey) = await Gateway.IssueKeyAsync(customer, "narrow");
        await CallAsync(busyKey, 8);
        await CallAsync(quietKey, 2);

        var preview = await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/billing/preview?customerId={customer}");

        Assert.True(preview.GetProperty("dryRun").GetBoolean());
        Assert.Equal("2030-06", preview.GetProperty("period").GetString());
        Assert.Equal("usd", preview.GetProperty("currency").GetString());
        Assert.Equal((10, 3), (preview.GetProperty("billableCalls").GetInt64(), preview.GetProperty("overageCalls").GetInt64()));
        var lines = preview.GetProperty("lines").EnumerateArray()
            .Select(l => (Key: l.GetProperty("keyId").GetString(), Kind: l.GetProperty("kind").GetString(), Quantity: l.GetProperty("quantity").GetInt64(), Amount: l.GetProperty("amount").GetDecimal()))
            .ToList();
        Assert.Equal(
            [(busy, InvoicePreviewer.PlanLine, 1L, 10m), (busy, InvoicePreviewer.OverageLine, 3L, 6m), (quiet, InvoicePreviewer.PlanLine, 1L, 3.5m)],
            lines);
        Assert.Equal(19.5m, preview.GetProperty("total").GetDecimal());
        var usage = await Gateway.UsageAsync(customer);
        Assert.Equal(usage.GetProperty("total").GetInt64(), preview.GetProperty("billableCalls").GetInt64());
    }

    [Fact]
    public async Task Preview_OfAMonthWithoutUsage_ChargesOnlyTheKeysLiveInIt()
    {
        var customer = await Gateway.CreateCustomerAsync();
        var (key, _) = await Gateway.IssueKeyAsync(customer, "narrow");

        var before = await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/billing/preview?customerId={customer}&period=2030-05");
        var now = await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/billing/preview?customerId={customer}&period=2030-06");

        Assert.Empty(before.GetProperty("lines").EnumerateArray());
        Assert.Equal(0m, before.GetProperty("total").GetDecimal());
        Assert.Equal(key, Assert.Single(now.GetProperty("lines").EnumerateArray()).GetProperty("keyId").GetString());
    }

    [Theory]
    [InlineData("2030-13")]
    [InlineData("2030-6")]
    [InlineData("1999-12")]
    [InlineData("June")]
    public async Task Preview_WithABadPeriod_Returns400_NamingThePeriod(string period)
    {
        var customer = await Gateway.CreateCustomerAsync();

        using var response = await Gateway.Admin.GetAsync($"admin/v1/billing/preview?customerId={customer}&period={period}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.EndsWith("invalid-request", problem.GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.True(problem.GetProperty("errors").TryGetProperty("period", out _));
    }

    [Fact]
    public async Task Preview_OfAnUnknownCustomer_Returns404()
    {
        using var response = await Gateway.Admin.GetAsync("admin/v1/billing/preview?customerId=cus_0000000000000000");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory]
    [InlineData("2030-06-01", null, null, true)] // created before the month ends
    [InlineData("2030-07-01", null, null, false)] // created after it
    [InlineData("2030-01-01", "2030-05-31", null, false)] // revoked before it began
    [InlineData("2030-01-01", "2030-06-02", null, true)] // revoked during it
    [InlineData("2030-01-01", null, "2030-05-20", false)] // rotated away before it began
    public void WasLive_ForAMonth_IsAnyPartOfTheMonth(string created, string? revoked, string? expires, bool live)
    {
        var key = new ApiKeyRecord(
            "k", "c", "open", revoked is null ? ApiKeyStatus.Active : ApiKeyStatus.Revoked, "h", "gw_", DateTimeOffset.Parse(created + "T00:00Z"),
            revoked is null ? null : DateTimeOffset.Parse(revoked + "T00:00Z"), ExpiresAt: expires is null ? null : DateTimeOffset.Parse(expires + "T00:00Z"));

        Assert.Equal(live, InvoicePreviewer.WasLive(key, new BillingPeriod(2030, 6)));
    }

    private async Task CallAsync(string key, int calls)
    {
        for (var i = 0; i < calls; i++)
        {
            using var response = await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", key));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }
}
