using Gateway.StripeTestServer;
using Stripe;
using StripeServer = Gateway.StripeTestServer.StripeTestServer;

namespace Gateway.Tests.Billing;

/// <summary>Stripe.net clients pointed at a <see cref="StripeServer"/> through <c>ApiBase</c>, as billing points them.</summary>
internal static class StripeClients
{
    public const string TestKey = "sk_test_gateway";

    /// <summary>A client with Stripe.net's own retries (none by default) and a timeout.</summary>
    public static StripeClient For(StripeServer server, int maxNetworkRetries = 0, TimeSpan? timeout = null) =>
        new(new StripeClientOptions
        {
            ApiKey = TestKey,
            ApiBase = server.ApiBase,
            HttpClient = new SystemNetHttpClient(new HttpClient { Timeout = timeout ?? TimeSpan.FromSeconds(30) }, maxNetworkRetries),
        });
}
