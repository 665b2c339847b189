using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gateway.ControlPlane.Apis;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Billing;

/// <summary>
/// Stripe events as Stripe sends them: the event JSON (API version of Stripe.net 53.1.0) and the
/// <c>Stripe-Signature</c> header <c>t={unix seconds},v1={hex HMAC-SHA256(secret, "{t}.{body}")}</c>, computed here by
/// hand rather than with Stripe.net, so the gateway's check is tested against the scheme itself.
/// </summary>
internal static class StripeWebhookEvents
{
    public const string Secret = "whsec_test_0123456789abcdef";

    /// <summary>The API version Stripe.net 53.1.0 reads (its internal ApiVersion.Current).</summary>
    public const string CurrentApiVersion = "2026-10-28.endive";

    private static int _sequence;

    public static string NewEventId() => "evt_" + Interlocked.Increment(ref _sequence).ToString("D10", CultureInfo.InvariantCulture) + Guid.NewGuid().ToString("N")[..12];

    public static string NewStripeCustomerId() => "cus_" + Guid.NewGuid().ToString("N")[..14];

    public static string Invoice(string type, string stripeCustomer, DateTimeOffset created, string? id = null, string apiVersion = CurrentApiVersion) =>
        Event(id ?? NewEventId(), type, created, apiVersion, new
        {
            id = "in_" + Guid.NewGuid().ToString("N")[..14],
            @object = "invoice",
            customer = stripeCustomer,
            created = created.ToUnixTimeSeconds(),
            status = type == "invoice.paid" ? "paid" : "open",
        });

    public static string Subscription(string type, string stripeCustomer, DateTimeOffset created, string? planLookupKey, string? id = null, string status = "active") =>
        Event(id ?? NewEventId(), type, created, CurrentApiVersion, new
        {
            id = "sub_" + Guid.NewGuid().ToString("N")[..14],
            @object = "subscription",
            customer = stripeCustomer,
            created = created.ToUnixTimeSeconds(),
            status,
            items = new
            {
                @object = "list",
                data = planLookupKey is null
                    ? Array.Empty<object>()
                    : [new { id = "si_1", @object = "subscription_item", price = new { id = "price_" + planLookupKey, @object = "price", lookup_key = planLookupKey + ".monthly", metadata = new { } } }],
            },
        });

    public static string Event(string id, string type, DateTimeOffset created, string apiVersion, object dataObject) =>
        JsonSerializer.Serialize(new
        {
            id,
            @object = "event",
            api_version = apiVersion,
            created = created.ToUnixTimeSeconds(),
            type,
            livemode = false,
            pending_webhooks = 1,
            request = new { id = (string?)null, idempotency_key = (string?)null },
            data = new { @object = dataObject },
        });

    public static string Sign(string body, DateTimeOffset at, string secret = Secret)
    {
        var t = at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{t}.{body}"));
        return $"t={t},v1={Convert.ToHexStringLower(mac)}";
    }

    public static async Task<HttpResponseMessage> DeliverAsync(TestGateway gateway, string body, string? signature)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, StripeWebhookApi.Route.TrimStart('/')) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (signature is not null)
        {
            request.Headers.TryAddWithoutValidation("Stripe-Signature", signature);
        }

        using var client = new HttpClient { BaseAddress = gateway.Admin.BaseAddress };
        return await client.SendAsync(request);
    }

    /// <summary>A customer created through the admin API, linked to a new Stripe customer (<c>stripeCustomerId</c>), with one key.</summary>
    public static async Task<(string Customer, string StripeCustomer, string KeyId, string Key)> LinkedCustomerWithKeyAsync(TestGateway gateway, string plan = "open")
    {
        var stripeCustomer = NewStripeCustomerId();
        using var created = await gateway.Admin.PostAsJsonAsync("admin/v1/customers", new { name = "Acme", email = "billing@acme.test", stripeCustomerId = stripeCustomer });
        created.EnsureSuccessStatusCode();
        var customer = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var (keyId, key) = await gateway.IssueKeyAsync(customer, plan);
        return (customer, stripeCustomer, keyId, key);
    }
}
