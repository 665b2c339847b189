using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.ControlPlane.Audit;
using Gateway.ControlPlane.Billing;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using static Gateway.Tests.Billing.StripeWebhookEvents;

namespace Gateway.Tests.Billing;

/// <summary>
/// <c>POST /billing/stripe/webhook</c> on the real gateway: signed deliveries drive the key lifecycle (402 at the data
/// plane after a failed payment's grace, 200 again once paid, plan changes, revocation), each event applied once and
/// independent of delivery order; forged, expired and malformed deliveries are 400 and change nothing.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class StripeWebhookTests(Azurite azurite) : GatewayTest(azurite)
{
    private static readonly DateTimeOffset Start = new(2030, 6, 15, 12, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Start);

    private Task<TestGateway> StartAsync(Action<Dictionary<string, string?>>? settings = null) =>
        StartGatewayAsync(
            s =>
            {
                s["Gateway:Stripe:WebhookSecret"] = Secret;
                // An hour, not the default 3 days: moving the fake clock fires every per-minute timer of the gateway on the way.
                s["Gateway:Billing:PaymentFailedGrace"] = "01:00:00";
                settings?.Invoke(s);
            },
            services: s => s.AddSingleton<TimeProvider>(_time));

    [Fact]
    public async Task PaymentFailed_AfterTheGrace_KeyAnswers402_AndInvoicePaid_Restores200()
    {
        await using var gateway = await StartAsync();
        var (customer, stripeCustomer, keyId, key) = await LinkedCustomerWithKeyAsync(gateway);
        var (adminSuspended, adminSuspendedKey) = await gateway.IssueKeyAsync(customer);
        (await gateway.Admin.PostAsync($"admin/v1/keys/{adminSuspended}/suspend", null)).EnsureSuccessStatusCode();

        var failed = Invoice("invoice.payment_failed", stripeCustomer, _time.GetUtcNow());
        using (var response = await DeliverAsync(gateway, failed, Sign(failed, _time.GetUtcNow())))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, await CallAsync(gateway, key));
        _time.Advance(TimeSpan.FromHours(1) - TimeSpan.FromMinutes(1));
        await SweepAsync(gateway);
        Assert.Equal(HttpStatusCode.OK, await CallAsync(gateway, key));

        _time.Advance(TimeSpan.FromMinutes(2));
        await SweepAsync(gateway);
        Assert.Equal(HttpStatusCode.PaymentRequired, await CallAsync(gateway, key));

        _time.Advance(TimeSpan.FromSeconds(1));
        var paid = Invoice("invoice.paid", stripeCustomer, _time.GetUtcNow());
        using (var response = await DeliverAsync(gateway, paid, Sign(paid, _time.GetUtcNow())))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, await CallAsync(gateway, key));
        // A key an admin suspended is not billing's to reactivate.
        Assert.Equal(HttpStatusCode.PaymentRequired, await CallAsync(gateway, adminSuspendedKey));
        var entries = await StripeAuditAsync(gateway);
        Assert.Equal([(AuditActions.KeySuspended, keyId), (AuditActions.KeyReactivated, keyId)], entries.Select(e => (e.Action, e.Target)));
    }

    [Fact]
    public async Task PaymentFailed_WithGraceZero_SuspendsAtOnce()
    {
        await using var gateway = await StartAsync(s => s["Gateway:Billing:PaymentFailedGrace"] = "00:00:00");
        var (_, stripeCustomer, _, key) = await LinkedCustomerWithKeyAsync(gateway);

        var failed = Invoice("invoice.payment_failed", stripeCustomer, _time.GetUtcNow());
        using var response = await DeliverAsync(gateway, failed, Sign(failed, _time.GetUtcNow()));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpStatusCode.PaymentRequired, await CallAsync(gateway, key));
    }

    [Fact]
    public async Task Event_DeliveredThreeTimes_IsAppliedOnce()
    {
        await using var gateway = await StartAsync();
        var (_, stripeCustomer, keyId, _) = await LinkedCustomerWithKeyAsync(gateway);
        var updated = Subscription("customer.subscription.updated", stripeCustomer, _time.GetUtcNow(), "narrow");

        var outcomes = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await DeliverAsync(gateway, updated, Sign(updated, _time.GetUtcNow()));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            outcomes.Add(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("outcome").GetString()!);
        }

        Assert.Equal(["applied", "duplicate", "duplicate"], outcomes);
        var entry = Assert.Single(await StripeAuditAsync(gateway));
        Assert.Equal((AuditActions.KeyPlanChanged, keyId), (entry.Action, entry.Target));
        Assert.Equal("narrow", (await gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/keys/{keyId}")).GetProperty("plan").GetString());
    }

    [Fact]
    public async Task OlderEvent_DeliveredAfterANewerOne_DoesNotUndoIt()
    {
        await using var gateway = await StartAsync();
        var (_, stripeCustomer, keyId, key) = await LinkedCustomerWithKeyAsync(gateway);
        var earlier = _time.GetUtcNow().AddMinutes(-10);
        var now = _time.GetUtcNow();

        // Newer first: paid (now), then the failure it settled (earlier); plan narrow (now), then open (earlier).
        foreach (var body in new[]
        {
            Invoice("invoice.paid", stripeCustomer, now),
            Invoice("invoice.payment_failed", stripeCustomer, earlier),
            Subscription("customer.subscription.updated", stripeCustomer, now, "narrow"),
            Subscription("customer.subscription.updated", stripeCustomer, earlier, "open"),
        })
        {
            using var response = await DeliverAsync(gateway, body, Sign(body, now));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        _time.Advance(TimeSpan.FromHours(2));
        await SweepAsync(gateway);
        Assert.NotEqual(HttpStatusCode.PaymentRequired, await CallAsync(gateway, key));
        Assert.Equal("narrow", (await gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/keys/{keyId}")).GetProperty("plan").GetString());
        var entry = Assert.Single(await StripeAuditAsync(gateway));
        Assert.Equal(AuditActions.KeyPlanChanged, entry.Action);
    }

    [Fact]
    public async Task NewerAndOlderEvents_DeliveredAtOnce_TheNewerOneStands()
    {
        await using var gateway = await StartAsync(s => s["Gateway:Billing:PaymentFailedGrace"] = "00:00:00");
        for (var round = 0; round < 24; round++)
        {
            var (_, stripeCustomer, keyId, key) = await LinkedCustomerWithKeyAsync(gateway);
            var now = _time.GetUtcNow();
            string[] bodies =
            [
                Invoice("invoice.payment_failed", stripeCustomer, now.AddSeconds(-1)),
                Invoice("invoice.paid", stripeCustomer, now),
                Subscription("customer.subscription.updated", stripeCustomer, now.AddSeconds(-1), "open"),
                Subscription("customer.subscription.updated", stripeCustomer, now, "narrow"),
            ];
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var deliveries = bodies.Select(async body =>
            {
                await gate.Task;
                using var response = await DeliverAsync(gateway, body, Sign(body, now));
                return response.StatusCode;
            }).ToList();
            gate.SetResult();

            Assert.All(await Task.WhenAll(deliveries), s => Assert.Equal(HttpStatusCode.OK, s));
            Assert.Equal(HttpStatusCode.OK, await CallAsync(gateway, key));
            Assert.Equal("narrow", (await gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/keys/{keyId}")).GetProperty("plan").GetString());
        }
    }

    [Fact]
    public async Task SubscriptionDeleted_RevokesTheCustomersKeys()
    {
        await using var gateway = await StartAsync();
        var (_, stripeCustomer, _, key) = await LinkedCustomerWithKeyAsync(gateway);

        var deleted = Subscription("customer.subscription.deleted", stripeCustomer, _time.GetUtcNow(), "open", status: "canceled");
        using var response = await DeliverAsync(gateway, deleted, Sign(deleted, _time.GetUtcNow()));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, await CallAsync(gateway, key));
    }

    [Fact]
    public async Task EventsBeforeTheLink_AreAppliedWhenTheCustomerIsLinked()
    {
        await using var gateway = await StartAsync();
        var stripeCustomer = NewStripeCustomerId();
        var updated = Subscription("customer.subscription.updated", stripeCustomer, _time.GetUtcNow(), "narrow");
        using (var response = await DeliverAsync(gateway, updated, Sign(updated, _time.GetUtcNow())))
        {
            var answer = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, answer);
            Assert.Equal("unlinked", JsonDocument.Parse(answer).RootElement.GetProperty("outcome").GetString());
        }

        using var created = await gateway.Admin.PostAsJsonAsync("admin/v1/customers", new { name = "Late Ltd", email = "billing@late.test", stripeCustomerId = stripeCustomer });
        var createdAnswer = await created.Content.ReadAsStringAsync();
        Assert.True(created.StatusCode == HttpStatusCode.Created, createdAnswer);
        var customer = JsonDocument.Parse(createdAnswer).RootElement.GetProperty("id").GetString()!;
        var (keyId, _) = await gateway.IssueKeyAsync(customer);
        // The key was issued after the link: the next event for the customer (or the sweep) brings it in line.
        var again = Subscription("customer.subscription.updated", stripeCustomer, _time.GetUtcNow().AddSeconds(1), "narrow");
        (await DeliverAsync(gateway, again, Sign(again, _time.GetUtcNow()))).Dispose();

        Assert.Equal("narrow", (await gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/keys/{keyId}")).GetProperty("plan").GetString());
    }

    [Fact]
    public async Task CreateCustomer_WithAMalformedStripeCustomerId_Returns400_AndCreatesNothing()
    {
        await using var gateway = await StartAsync();

        using var response = await gateway.Admin.PostAsJsonAsync("admin/v1/customers", new { name = "Acme", stripeCustomerId = "sub_123" });

        await Problems.AssertAsync(response, 400, "urn:gateway:problem:invalid-request");
        var customers = await gateway.Admin.GetFromJsonAsync<JsonElement>("admin/v1/customers");
        Assert.Empty(customers.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task Forged_Expired_OrMalformedDeliveries_Return400_AndChangeNothing()
    {
        await using var gateway = await StartAsync(s => s["Gateway:Billing:PaymentFailedGrace"] = "00:00:00");
        var (_, stripeCustomer, _, key) = await LinkedCustomerWithKeyAsync(gateway);
        var now = _time.GetUtcNow();
        var body = Invoice("invoice.payment_failed", stripeCustomer, now);
        var otherVersion = Invoice("invoice.payment_failed", stripeCustomer, now, apiVersion: "2019-12-03");
        const string NotAnEvent = "{\"id\":\"evt_1\",\"object\":\"event\",\"data\":";
        var cases = new (string Name, string Body, string? Signature, string Type)[]
        {
            ("wrong secret", body, Sign(body, now, "whsec_forged"), "webhook-signature-invalid"),
            ("tampered body", body.Replace("payment_failed", "paid", StringComparison.Ordinal), Sign(body, now), "webhook-signature-invalid"),
            ("expired", body, Sign(body, now.AddMinutes(-6)), "webhook-signature-invalid"),
            ("from the future", body, Sign(body, now.AddMinutes(6)), "webhook-signature-invalid"),
            ("no header", body, null, "webhook-signature-invalid"),
            ("garbage header", body, "v1=abc", "webhook-signature-invalid"),
            ("malformed JSON", NotAnEvent, Sign(NotAnEvent, now), "webhook-malformed"),
            ("another API version", otherVersion, Sign(otherVersion, now), "webhook-api-version-mismatch"),
        };

        foreach (var (name, payload, signature, type) in cases)
        {
            using var response = await DeliverAsync(gateway, payload, signature);
            Assert.True((int)response.StatusCode == 400, $"{name}: {(int)response.StatusCode}");
            await Problems.AssertAsync(response, 400, "urn:gateway:problem:" + type);
        }

        Assert.Equal(HttpStatusCode.OK, await CallAsync(gateway, key));
        Assert.Empty(await StripeAuditAsync(gateway));
    }

    [Fact]
    public async Task ApiVersionCheck_Off_AcceptsAnEventOfAnotherVersion()
    {
        await using var gateway = await StartAsync(s =>
        {
            s["Gateway:Billing:PaymentFailedGrace"] = "00:00:00";
            s["Gateway:Stripe:ApiVersionCheck"] = "false";
        });
        var (_, stripeCustomer, _, key) = await LinkedCustomerWithKeyAsync(gateway);
        var body = Invoice("invoice.payment_failed", stripeCustomer, _time.GetUtcNow(), apiVersion: "2019-12-03");

        using var response = await DeliverAsync(gateway, body, Sign(body, _time.GetUtcNow()));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpStatusCode.PaymentRequired, await CallAsync(gateway, key));
    }

    [Fact]
    public async Task UnknownEventType_IsAcknowledged200_WithoutEffect()
    {
        await using var gateway = await StartAsync();
        var body = Event(NewEventId(), "customer.tax_id.created", _time.GetUtcNow(), CurrentApiVersion, new { id = "txi_1", @object = "tax_id" });

        using var response = await DeliverAsync(gateway, body, Sign(body, _time.GetUtcNow()));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ignored", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task Webhook_WithoutASecretConfigured_Returns503_NotConfigured()
    {
        await using var gateway = await StartAsync(s => s["Gateway:Stripe:WebhookSecret"] = null);
        var body = Invoice("invoice.paid", NewStripeCustomerId(), _time.GetUtcNow());

        using var response = await DeliverAsync(gateway, body, Sign(body, _time.GetUtcNow()));

        await Problems.AssertAsync(response, 503, "urn:gateway:problem:webhook-not-configured");
    }

    [Fact]
    public async Task Webhook_OnTheDataPort_IsNotServed()
    {
        await using var gateway = await StartAsync();
        var body = Invoice("invoice.paid", NewStripeCustomerId(), _time.GetUtcNow());
        using var request = new HttpRequestMessage(HttpMethod.Post, "billing/stripe/webhook") { Content = new StringContent(body) };
        request.Headers.TryAddWithoutValidation("Stripe-Signature", Sign(body, _time.GetUtcNow()));

        using var response = await gateway.Data.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    internal static async Task<HttpStatusCode> CallAsync(TestGateway gateway, string key, string path = "alpha/1")
    {
        using var response = await gateway.Data.SendAsync(TestGateway.Get(path, key));
        return response.StatusCode;
    }

    private static Task<int> SweepAsync(TestGateway gateway) =>
        gateway.Services.GetRequiredService<PaymentGraceSweep>().SweepAsync(CancellationToken.None);

    internal static async Task<List<AuditEntry>> StripeAuditAsync(TestGateway gateway)
    {
        var audit = gateway.Services.GetRequiredService<AuditLog>();
        var entries = new List<AuditEntry>();
        string? token = null;
        do
        {
            var page = await audit.ReadPageAsync(Start.AddDays(-1), Start.AddDays(30), new AuditFilter(BillingEnforcement.Actor, null, null), token, AuditLog.MaxPageSize, CancellationToken.None);
            entries.AddRange(page.Items);
            token = page.ContinuationToken;
        }
        while (token is not null);

        return entries;
    }
}
