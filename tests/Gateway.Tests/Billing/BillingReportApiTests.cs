using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Billing;
using Gateway.Core.Usage;
using Gateway.StripeTestServer;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using StripeServer = Gateway.StripeTestServer.StripeTestServer;

namespace Gateway.Tests.Billing;

/// <summary><c>POST /admin/v1/billing/report</c> on the gateway's admin port: the job run now, its answer, its audit entry.</summary>
[Collection(UsesAzurite.Name)]
public sealed class BillingReportApiTests(Azurite azurite) : GatewayTest(azurite)
{
    [Fact]
    public async Task Report_AsAdminWithoutStripeKey_AnswersTheDryRun_AndIsAudited()
    {
        await using var gateway = await StartGatewayAsync();
        var (customer, hour) = await CustomerWithUsageAsync(gateway, "cus_stripe_link", 9);

        using var response = await gateway.Admin.PostAsync("admin/v1/billing/report", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var run = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(run.GetProperty("dryRun").GetBoolean());
        var planned = Assert.Single(run.GetProperty("events").EnumerateArray());
        Assert.Equal((Gateway.Billing.Reporting.UsageReportJob.Identifier(customer, hour, 1), 9), (planned.GetProperty("identifier").GetString(), planned.GetProperty("value").GetInt32()));
        var audit = await gateway.Admin.GetFromJsonAsync<JsonElement>("admin/v1/audit?action=billing.report-run");
        var entry = Assert.Single(audit.GetProperty("items").EnumerateArray());
        Assert.StartsWith("dry run: 1 meter events", entry.GetProperty("summary").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Report_AsDeveloper_Returns403_AndRunsNothing()
    {
        await using var gateway = await StartGatewayAsync();
        var customer = await gateway.CreateCustomerAsync();
        using var tokenResponse = await gateway.Admin.PostAsJsonAsync("admin/v1/tokens", new { role = "developer", customerId = customer, subject = "dev@acme.test" });
        var token = (await tokenResponse.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
        using var developer = new HttpClient { BaseAddress = gateway.Admin.BaseAddress };
        developer.DefaultRequestHeaders.Authorization = new("Bearer", token);

        using var response = await developer.PostAsync("admin/v1/billing/report", null);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var audit = await gateway.Admin.GetFromJsonAsync<JsonElement>("admin/v1/audit?action=billing.report-run");
        Assert.Empty(audit.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task Report_WithSecretKeyAndApiBaseConfigured_SendsTheMeterEventsToThatServer()
    {
        await using var stripe = await StripeServer.StartAsync(new StripeTestServerOptions { Time = TestClock.Instance });
        await using var gateway = await StartGatewayAsync(s =>
        {
            s["Gateway:Stripe:SecretKey"] = StripeClients.TestKey;
            s["Gateway:Stripe:ApiBase"] = stripe.ApiBase;
        });
        var (customer, hour) = await CustomerWithUsageAsync(gateway, "cus_at_stripe", 4);

        using var response = await gateway.Admin.PostAsync("admin/v1/billing/report", null);

        var run = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(run.GetProperty("dryRun").GetBoolean());
        Assert.Equal("Accepted", Assert.Single(run.GetProperty("events").EnumerateArray()).GetProperty("outcome").GetString());
        var sent = Assert.Single(stripe.State.MeterEvents);
        Assert.Equal((Gateway.Billing.Reporting.UsageReportJob.Identifier(customer, hour, 1), "cus_at_stripe", "4"), (sent.Identifier, sent.Payload["stripe_customer_id"], sent.Payload["value"]));
    }

    /// <summary>A customer linked to a Stripe customer, with billable calls in the previous hour of the ledger.</summary>
    private static async Task<(string Customer, int Hour)> CustomerWithUsageAsync(TestGateway gateway, string stripeCustomer, long calls)
    {
        var customer = await gateway.CreateCustomerAsync();
        await gateway.Services.GetRequiredService<BillingTables>().EnsureCreatedAsync(CancellationToken.None);
        await gateway.Services.GetRequiredService<StripeCustomerLinks>().LinkAsync(customer, stripeCustomer, CancellationToken.None);
        var hour = UsageCalendar.HourOf(TestClock.Instance.GetUtcNow()) - 1;
        await gateway.Services.GetRequiredService<UsageTable>().WriteBatchAsync(
            [UsageTable.HourRow(new UsageCount(new UsageCell(customer, "key1", "alpha", hour, CallOutcome.Status2xx), "w-test", calls))],
            CancellationToken.None);
        return (customer, hour);
    }
}
