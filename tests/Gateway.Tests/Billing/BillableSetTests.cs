using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Billing;
using Gateway.Core.Usage;
using Gateway.Proxy.Metering;
using Gateway.StripeTestServer;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using StripeServer = Gateway.StripeTestServer.StripeTestServer;

namespace Gateway.Tests.Billing;

/// <summary>
/// Issue #11 item 1: the calls billed and the calls that use quota are one set, the plan's (<c>Gateway:Plans:{name}:Billable</c>).
/// Calls go through the real gateway to a real upstream answering 200, 302, 404, 429 and 500; then the ledger (stored
/// rows), the quota (month rows, <c>/_gateway/usage</c>), the usage API, the invoice preview and the meter events the
/// billing report sends to the Stripe test server must agree on exactly which calls were billed.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class BillableSetTests(Azurite azurite) : GatewayTest(azurite)
{
    /// <summary>Calls per upstream status: 3 + 2 + 2 billable by default, 4 + 5 not.</summary>
    private static readonly (int Status, int Calls, string Outcome)[] Answers =
    [
        (200, 3, "2xx"), (302, 2, "3xx"), (404, 2, "4xx"), (429, 4, "429"), (500, 5, "5xx"),
    ];

    [Fact]
    public async Task MixedUpstreamAnswers_DefaultPlanAndAllAnswersPlan_LedgerQuotaUsageApiPreviewAndMeterAgreeOnWhatIsBilled()
    {
        await using var stripe = await StripeServer.StartAsync(new StripeTestServerOptions { Time = TestClock.Instance });
        await using var gateway = await StartGatewayAsync(s =>
        {
            s["Gateway:Stripe:SecretKey"] = StripeClients.TestKey;
            s["Gateway:Stripe:ApiBase"] = stripe.ApiBase;
            s["Gateway:Metering:FlushInterval"] = "00:05:00";
            s["Gateway:Plans:open:MonthlyQuota"] = "1000";
            s["Gateway:Plans:lavish:RequestsPerSecond"] = "100000";
            s["Gateway:Plans:lavish:Burst"] = "100000";
            s["Gateway:Plans:lavish:MonthlyQuota"] = "1000";
            s["Gateway:Plans:lavish:RouteGroups:0"] = "beta";
            string[] everything = ["2xx", "3xx", "4xx", "429", "5xx"];
            for (var i = 0; i < everything.Length; i++)
            {
                s[$"Gateway:Plans:lavish:Billable:{i}"] = everything[i];
            }
        });
        await gateway.Services.GetRequiredService<BillingTables>().EnsureCreatedAsync(CancellationToken.None);
        var standard = await CustomerCallingAsync(gateway, "open", "cus_standard");
        var lavish = await CustomerCallingAsync(gateway, "lavish", "cus_lavish");
        Assert.True((await gateway.Services.GetRequiredService<UsageFlushService>().FlushAsync(CancellationToken.None)).Complete);

        // The ledger: every outcome in its own rows, the upstream's 429 apart from the other 4xx.
        foreach (var (customer, _, _) in new[] { standard, lavish })
        {
            var stored = await StoredOutcomesAsync(gateway, customer);
            Assert.Equal(Answers.ToDictionary(a => a.Outcome, a => (long)a.Calls), stored);
        }

        var plans = await gateway.Admin.GetFromJsonAsync<JsonElement>("admin/v1/plans");
        string Billable(string plan) => string.Join(',', plans.EnumerateArray().Single(p => p.GetProperty("name").GetString() == plan).GetProperty("billable").EnumerateArray().Select(b => b.GetString()));
        Assert.Equal("2xx,3xx,4xx", Billable("open"));
        Assert.Equal("2xx,3xx,4xx,429,5xx", Billable("lavish"));

        await AssertBilledEverywhereAsync(gateway, stripe, standard, billed: 7, notBilled: 9);
        await AssertBilledEverywhereAsync(gateway, stripe, lavish, billed: 16, notBilled: 0);
    }

    private async Task AssertBilledEverywhereAsync(TestGateway gateway, StripeServer stripe, (string Customer, string KeyId, string Key) caller, long billed, long notBilled)
    {
        var month = UsageCalendar.MonthOf(TestClock.Instance.GetUtcNow());

        // The quota: the month row storage holds and the developer's own view.
        Assert.Equal(billed, await gateway.Services.GetRequiredService<UsageTable>().ReadMonthTotalAsync(caller.Customer, caller.KeyId, month, exceptWriter: null, CancellationToken.None));
        using (var own = await gateway.Data.SendAsync(TestGateway.Get("_gateway/usage", caller.Key)))
        {
            var developer = JsonDocument.Parse(await own.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(billed, developer.GetProperty("used").GetInt64());
            Assert.Equal(billed, developer.GetProperty("billable").GetInt64());
            Assert.Equal(notBilled, developer.GetProperty("notBillable").GetInt64());
        }

        // The usage API.
        var usage = await gateway.UsageAsync(caller.Customer);
        Assert.Equal(billed, usage.GetProperty("total").GetInt64());
        Assert.Equal(billed, usage.GetProperty("billable").GetInt64());
        Assert.Equal(notBilled, usage.GetProperty("notBillable").GetInt64());
        Assert.Equal(notBilled, usage.GetProperty("upstreamNotBilled").GetInt64());

        // The invoice preview and the meter events Stripe accepted.
        var preview = await gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/billing/preview?customerId={caller.Customer}");
        Assert.Equal(billed, preview.GetProperty("billableCalls").GetInt64());
        using var report = await gateway.Admin.PostAsync("admin/v1/billing/report", null);
        report.EnsureSuccessStatusCode();
        var sent = stripe.State.MeterEvents.Where(e => e.Payload["stripe_customer_id"] == StripeIdOf(caller.Customer)).Sum(e => long.Parse(e.Payload["value"], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(billed, sent);
    }

    private readonly Dictionary<string, string> _stripeIds = [];

    private string StripeIdOf(string customer) => _stripeIds[customer];

    /// <summary>A customer linked to Stripe, with a key on <paramref name="plan"/> that has made every call of <see cref="Answers"/>.</summary>
    private async Task<(string Customer, string KeyId, string Key)> CustomerCallingAsync(TestGateway gateway, string plan, string stripeCustomer)
    {
        var customer = await gateway.CreateCustomerAsync();
        await gateway.Services.GetRequiredService<StripeCustomerLinks>().LinkAsync(customer, stripeCustomer, CancellationToken.None);
        _stripeIds[customer] = stripeCustomer;
        var (keyId, key) = await gateway.IssueKeyAsync(customer, plan);
        foreach (var (status, calls, _) in Answers)
        {
            for (var i = 0; i < calls; i++)
            {
                using var response = await gateway.Data.SendAsync(TestGateway.Get($"beta/status/{status}", key));
                Assert.Equal(status, (int)response.StatusCode);
            }
        }

        // The gateway counts a call once its answer has gone: wait until all are counted.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await gateway.UsageAsync(customer)).GetProperty("buckets").EnumerateArray().Sum(b => b.GetProperty("count").GetInt64()) < Answers.Sum(a => a.Calls)
            && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        return (customer, keyId, key);
    }

    private static async Task<Dictionary<string, long>> StoredOutcomesAsync(TestGateway gateway, string customer)
    {
        var hour = UsageCalendar.HourOf(TestClock.Instance.GetUtcNow());
        var stored = new Dictionary<string, long>();
        await foreach (var count in gateway.Services.GetRequiredService<UsageTable>().ReadHoursAsync(customer, hour - 1, hour + 1, CancellationToken.None))
        {
            stored[count.Cell.Outcome.Name()] = stored.GetValueOrDefault(count.Cell.Outcome.Name()) + count.Count;
        }

        return stored;
    }
}
