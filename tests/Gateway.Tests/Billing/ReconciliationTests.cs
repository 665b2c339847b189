using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Billing;
using Gateway.Billing.Reconciliation;
using Gateway.Core.Usage;
using Gateway.StripeTestServer;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Stripe;
using Stripe.Billing;
using StripeServer = Gateway.StripeTestServer.StripeTestServer;

namespace Gateway.Tests.Billing;

/// <summary>
/// <c>GET /admin/v1/billing/reconciliation</c>: the ledger, the watermarks and Stripe's meter compared for a customer's
/// month; every hour that differs is listed with why, and hours that agree are not.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class ReconciliationTests(Azurite azurite) : GatewayTest(azurite)
{
    [Fact]
    public async Task Reconciliation_AfterAReport_ListsLateUsageAsUnreported_AndAnEventNotFromTheGatewayAsStripeDiffers()
    {
        await using var stripe = await StripeServer.StartAsync(new StripeTestServerOptions { Time = TestClock.Instance });
        await using var gateway = await StartGatewayAsync(s =>
        {
            s["Gateway:Stripe:SecretKey"] = StripeClients.TestKey;
            s["Gateway:Stripe:ApiBase"] = stripe.ApiBase;
        });
        await CreateMeterAsync(stripe);
        var stripeCustomer = (await new CustomerService(StripeClients.For(stripe)).CreateAsync(new CustomerCreateOptions { Email = "acme@example.com" })).Id;
        var customer = await LinkedCustomerAsync(gateway, stripeCustomer);
        var now = UsageCalendar.HourOf(TestClock.Instance.GetUtcNow());
        int agreed = now - 3, stripeAhead = now - 2, late = now - 1;
        await WriteAsync(gateway, customer, agreed, 5);
        await WriteAsync(gateway, customer, stripeAhead, 3);
        await WriteAsync(gateway, customer, late, 4);
        (await gateway.Admin.PostAsync("admin/v1/billing/report", null)).EnsureSuccessStatusCode();
        await WriteAsync(gateway, customer, late, 6); // two more calls flushed after the report
        await new MeterEventService(StripeClients.For(stripe)).CreateAsync(new MeterEventCreateOptions
        {
            EventName = "api_calls",
            Identifier = "sent-by-someone-else",
            Timestamp = UsageCalendar.HourStart(stripeAhead).UtcDateTime,
            Payload = new Dictionary<string, string> { ["stripe_customer_id"] = stripeCustomer, ["value"] = "2" },
        });

        var reconciliation = await gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/billing/reconciliation?customerId={customer}");

        Assert.False(reconciliation.GetProperty("dryRun").GetBoolean());
        Assert.Equal(stripeCustomer, reconciliation.GetProperty("stripeCustomerId").GetString());
        Assert.Equal((14L, 12L, 14L), (reconciliation.GetProperty("ledgerTotal").GetInt64(), reconciliation.GetProperty("reportedTotal").GetInt64(), reconciliation.GetProperty("stripeTotal").GetInt64()));
        var differences = reconciliation.GetProperty("differences").EnumerateArray()
            .Select(d => (Hour: UsageCalendar.HourOf(d.GetProperty("hour").GetDateTimeOffset()), Kind: d.GetProperty("kind").GetString(), Ledger: d.GetProperty("ledger").GetInt64(), Reported: d.GetProperty("reported").GetInt64(), Stripe: d.GetProperty("stripe").GetInt64()))
            .ToList();
        Assert.Equal(
            [(stripeAhead, ReconciliationKinds.StripeDiffers, 3L, 3L, 5L), (late, ReconciliationKinds.Unreported, 6L, 4L, 4L)],
            differences);
        Assert.Contains(reconciliation.GetProperty("notes").EnumerateArray(), n => n.GetString()!.Contains("no subscription", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Reconciliation_InDryRun_ComparesNothingWithStripe_AndCarriesTheInvoicePreview()
    {
        await using var gateway = await StartGatewayAsync();
        var customer = await gateway.CreateCustomerAsync();
        await gateway.IssueKeyAsync(customer);
        await gateway.Services.GetRequiredService<BillingTables>().EnsureCreatedAsync(CancellationToken.None);
        await WriteAsync(gateway, customer, UsageCalendar.HourOf(TestClock.Instance.GetUtcNow()) - 1, 7);

        var reconciliation = await gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/billing/reconciliation?customerId={customer}&period=2030-06");

        Assert.True(reconciliation.GetProperty("dryRun").GetBoolean());
        Assert.Equal(7, reconciliation.GetProperty("ledgerTotal").GetInt64());
        Assert.Equal(JsonValueKind.Null, reconciliation.GetProperty("stripeTotal").ValueKind);
        Assert.Empty(reconciliation.GetProperty("differences").EnumerateArray());
        Assert.Equal(7, reconciliation.GetProperty("invoicePreview").GetProperty("billableCalls").GetInt64());
        Assert.Contains(reconciliation.GetProperty("notes").EnumerateArray(), n => n.GetString()!.StartsWith("Dry run", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Reconciliation_WithoutCustomerId_Returns400_AndNeverA5xx()
    {
        await using var gateway = await StartGatewayAsync();

        using var missing = await gateway.Admin.GetAsync("admin/v1/billing/reconciliation");
        using var badPeriod = await gateway.Admin.GetAsync($"admin/v1/billing/reconciliation?customerId={await gateway.CreateCustomerAsync()}&period=2030-00");

        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest), (missing.StatusCode, badPeriod.StatusCode));
    }

    private static async Task CreateMeterAsync(StripeServer stripe) =>
        await new MeterService(StripeClients.For(stripe)).CreateAsync(new MeterCreateOptions
        {
            DisplayName = "API calls",
            EventName = "api_calls",
            DefaultAggregation = new MeterDefaultAggregationOptions { Formula = "sum" },
            CustomerMapping = new MeterCustomerMappingOptions { EventPayloadKey = "stripe_customer_id", Type = "by_id" },
        });

    private static async Task<string> LinkedCustomerAsync(TestGateway gateway, string stripeCustomer)
    {
        var customer = await gateway.CreateCustomerAsync();
        await gateway.Services.GetRequiredService<BillingTables>().EnsureCreatedAsync(CancellationToken.None);
        await gateway.Services.GetRequiredService<StripeCustomerLinks>().LinkAsync(customer, stripeCustomer, CancellationToken.None);
        return customer;
    }

    /// <summary>One writer's cumulative count of billable calls in an hour, as the flush writes it.</summary>
    private static Task WriteAsync(TestGateway gateway, string customer, int hour, long cumulative) =>
        gateway.Services.GetRequiredService<UsageTable>().WriteBatchAsync(
            [UsageTable.HourRow(new UsageCount(new UsageCell(customer, "key1", "alpha", hour, CallOutcome.Status2xx), "w-test", cumulative))],
            CancellationToken.None);
}
