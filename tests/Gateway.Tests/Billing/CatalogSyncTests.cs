using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Billing.Catalog;
using Gateway.StripeTestServer;
using Gateway.Tests.Infrastructure;
using Stripe;
using StripeServer = Gateway.StripeTestServer.StripeTestServer;

namespace Gateway.Tests.Billing;

/// <summary>
/// <c>POST /admin/v1/billing/catalog/sync</c>: plans as code become Stripe's meter, products and prices; a rerun
/// changes nothing; a changed price is replaced under the same lookup key.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class CatalogSyncTests(Azurite azurite) : GatewayTest(azurite)
{
    [Fact]
    public async Task Sync_CreatesTheMeterProductsAndPrices_AndARerunChangesNothing()
    {
        await using var stripe = await StripeServer.StartAsync(new StripeTestServerOptions { Time = TestClock.Instance });
        await using var gateway = await StartGatewayAsync(Billing(stripe, openPrice: "49.90"));

        var first = await SyncAsync(gateway);
        var second = await SyncAsync(gateway);

        Assert.Equal(
            [("meter", "api_calls", "created"), ("product", "narrow", "created"), ("price", "narrow.monthly", "created"),
             ("product", "open", "created"), ("price", "open.monthly", "created"), ("price", "open.overage", "created")],
            first.Select(c => (c.Kind, c.Name, c.Action)).OrderBy(c => c.Kind == "meter" ? "" : c.Name, StringComparer.Ordinal));
        Assert.All(second, c => Assert.Equal(CatalogActions.Unchanged, c.Action));
        var prices = new PriceService(StripeClients.For(stripe));
        var monthly = Assert.Single((await prices.ListAsync(new PriceListOptions { LookupKeys = ["open.monthly"] })).Data);
        Assert.Equal((4990L, "usd", "month", CatalogSync.ProductId("open")), (monthly.UnitAmount!.Value, monthly.Currency, monthly.Recurring.Interval, monthly.ProductId));
        var overage = Assert.Single((await prices.ListAsync(new PriceListOptions { LookupKeys = ["open.overage"] })).Data);
        Assert.Equal(("metered", "tiered", "graduated"), (overage.Recurring.UsageType, overage.BillingScheme, overage.TiersMode));
        Assert.Equal((1000L, 0m), (overage.Tiers[0].UpTo!.Value, overage.Tiers[0].UnitAmountDecimal!.Value));
        Assert.Equal((null, 0.5m), (overage.Tiers[1].UpTo, overage.Tiers[1].UnitAmountDecimal)); // 5.00 per 1,000 = 0.5 cents a call
        var audit = await gateway.Admin.GetFromJsonAsync<JsonElement>("admin/v1/audit?action=billing.catalog-synced");
        Assert.Equal(2, audit.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Sync_AfterAPlansPriceChanged_ReplacesThatPriceUnderItsLookupKey_AndLeavesTheRest()
    {
        await using var stripe = await StripeServer.StartAsync(new StripeTestServerOptions { Time = TestClock.Instance });
        await using (var before = await StartGatewayAsync(Billing(stripe, openPrice: "10")))
        {
            await SyncAsync(before);
        }

        await using var after = await StartGatewayAsync(Billing(stripe, openPrice: "12"));
        var changes = await SyncAsync(after);

        Assert.Equal([("price", "open.monthly", "replaced")], changes.Where(c => c.Action != CatalogActions.Unchanged).Select(c => (c.Kind, c.Name, c.Action)));
        var current = Assert.Single((await new PriceService(StripeClients.For(stripe)).ListAsync(new PriceListOptions { LookupKeys = ["open.monthly"] })).Data);
        Assert.Equal(1200L, current.UnitAmount);
    }

    [Fact]
    public async Task Sync_WithoutAStripeKey_Returns409_AndTouchesNothing()
    {
        await using var gateway = await StartGatewayAsync();

        using var response = await gateway.Admin.PostAsync("admin/v1/billing/catalog/sync", null);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.EndsWith("conflict", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString(), StringComparison.Ordinal);
    }

    private static Action<Dictionary<string, string?>> Billing(StripeServer stripe, string openPrice) => s =>
    {
        s["Gateway:Stripe:SecretKey"] = StripeClients.TestKey;
        s["Gateway:Stripe:ApiBase"] = stripe.ApiBase;
        s["Gateway:Plans:open:MonthlyQuota"] = "1000";
        s["Gateway:Plans:open:OverQuota"] = "Bill";
        s["Gateway:Plans:open:PricePerMonth"] = openPrice;
        s["Gateway:Plans:open:OveragePricePerThousand"] = "5";
    };

    private static async Task<List<CatalogChange>> SyncAsync(TestGateway gateway)
    {
        using var response = await gateway.Admin.PostAsync("admin/v1/billing/catalog/sync", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<CatalogSyncRun>(JsonSerializerOptions.Web))!.Changes.ToList();
    }
}
