using System.Net.Http.Headers;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Proxying;

[Collection(UsesAzurite.Name)]
public sealed class ForwardingHygieneTests(Azurite azurite) : SharedGatewayTest(azurite)
{
    [Fact]
    public async Task ForwardedRequest_NeverCarriesTheKey_InAnyHeader()
    {
        var customer = await Gateway.CreateCustomerAsync();
        var (_, key) = await Gateway.IssueKeyAsync(customer);
        using var bearer = new HttpRequestMessage(HttpMethod.Get, "alpha/1");
        bearer.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);

        (await Gateway.Data.SendAsync(bearer)).Dispose();
        (await Gateway.Data.SendAsync(TestGateway.Get("beta/2", key))).Dispose();

        Assert.Equal(2, Upstream.Received.Count);
        foreach (var received in Upstream.Received)
        {
            Assert.False(received.Headers.ContainsKey("Authorization"));
            Assert.False(received.Headers.ContainsKey("X-Api-Key"));
            Assert.DoesNotContain(received.Headers.Values.SelectMany(v => v), v => v.Contains(key[..20], StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task ForwardedRequest_CarriesTheVerifiedIdentity_AndNotTheClientsSpoofedCopies()
    {
        var customer = await Gateway.CreateCustomerAsync();
        var (keyId, key) = await Gateway.IssueKeyAsync(customer);
        using var request = TestGateway.Get("beta/2", key);
        request.Headers.TryAddWithoutValidation("X-Gateway-Customer-Id", "cus_somebody_else");
        request.Headers.TryAddWithoutValidation("X-Gateway-Key-Id", "spoofed");
        request.Headers.TryAddWithoutValidation("X-Gateway-Plan", "enterprise");
        request.Headers.TryAddWithoutValidation("X-Gateway-Route-Group", "gamma");
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "203.0.113.7");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Proto", "https");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Host", "billing.example.com");
        request.Headers.TryAddWithoutValidation("Forwarded", "for=203.0.113.7");

        (await Gateway.Data.SendAsync(request)).Dispose();

        var received = Assert.Single(Upstream.Received);
        Assert.Equal([customer], received.Headers["X-Gateway-Customer-Id"]);
        Assert.Equal([keyId], received.Headers["X-Gateway-Key-Id"]);
        Assert.Equal(["open"], received.Headers["X-Gateway-Plan"]);
        Assert.Equal(["beta"], received.Headers["X-Gateway-Route-Group"]);
        Assert.Equal(["127.0.0.1"], received.Headers["X-Forwarded-For"]);
        Assert.Equal(["http"], received.Headers["X-Forwarded-Proto"]);
        Assert.Equal([Gateway.Data.BaseAddress!.Authority], received.Headers["X-Forwarded-Host"]);
        Assert.False(received.Headers.ContainsKey("Forwarded"));
    }
}
