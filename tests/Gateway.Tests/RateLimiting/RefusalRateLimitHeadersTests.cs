using System.Net;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.RateLimiting;

/// <summary>The README's promise: every response to a verified key carries the X-RateLimit-* headers, refusals too.</summary>
[Collection(UsesAzurite.Name)]
public sealed class RefusalRateLimitHeadersTests(Azurite azurite) : SharedGatewayTest(azurite)
{
    protected override void Settings(Dictionary<string, string?> settings)
    {
        settings["Gateway:Plans:narrow:RequestsPerSecond"] = "1";
        settings["Gateway:Plans:narrow:Burst"] = "7";
    }

    [Fact]
    public async Task RouteNotInPlan_Returns403_WithRateLimitHeaders_AndTakesNoToken()
    {
        var customer = await Gateway.CreateCustomerAsync();
        var (_, key) = await Gateway.IssueKeyAsync(customer, "narrow");

        using var refused = await Gateway.Data.SendAsync(TestGateway.Get("beta/x", key));
        using var served = await Gateway.Data.SendAsync(TestGateway.Get("alpha/x", key));

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("7", Header(refused, "X-RateLimit-Limit"));
        Assert.Equal("7", Header(refused, "X-RateLimit-Remaining"));
        Assert.Equal("0", Header(refused, "X-RateLimit-Reset"));
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal("6", Header(served, "X-RateLimit-Remaining"));
    }

    [Fact]
    public async Task SuspendedKey_Returns402_WithRateLimitHeaders()
    {
        var customer = await Gateway.CreateCustomerAsync();
        var (id, key) = await Gateway.IssueKeyAsync(customer, "narrow");
        (await Gateway.Admin.PostAsync($"admin/v1/keys/{id}/suspend", null)).EnsureSuccessStatusCode();

        using var refused = await Gateway.Data.SendAsync(TestGateway.Get("alpha/x", key));

        Assert.Equal(HttpStatusCode.PaymentRequired, refused.StatusCode);
        Assert.Equal("7", Header(refused, "X-RateLimit-Limit"));
        Assert.Equal("7", Header(refused, "X-RateLimit-Remaining"));
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.Single() : null;
}
