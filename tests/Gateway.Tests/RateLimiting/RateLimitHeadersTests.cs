using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.RateLimiting;

/// <summary>README, "Quotas and limits": the X-RateLimit-* headers, on a clock the test moves.</summary>
[Collection(UsesAzurite.Name)]
public sealed class RateLimitHeadersTests(Azurite azurite) : GatewayTest(azurite)
{
    [Fact]
    public async Task RateLimitHeaders_ShowTheBurst_TheTokensLeft_AndTheSecondsUntilTheBucketIsFull()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 15, 10, 0, 0, TimeSpan.Zero));
        await using var gateway = await StartGatewayAsync(
            settings: s =>
            {
                s["Gateway:Plans:open:RequestsPerSecond"] = "0.5";
                s["Gateway:Plans:open:Burst"] = "3";
            },
            services: s => s.AddSingleton<TimeProvider>(time));
        var customer = await gateway.CreateCustomerAsync();
        var (_, key) = await gateway.IssueKeyAsync(customer);

        // (status, remaining, reset, retry-after): one token every 2 s, 3 at most.
        var seen = new List<(int, string, string, TimeSpan?)>();
        for (var i = 0; i < 4; i++)
        {
            seen.Add(await CallAsync(gateway, key));
        }

        time.Advance(TimeSpan.FromSeconds(2));
        seen.Add(await CallAsync(gateway, key));
        time.Advance(TimeSpan.FromSeconds(60));
        seen.Add(await CallAsync(gateway, key));

        Assert.Equal(
            [
                (200, "2", "2", null),
                (200, "1", "4", null),
                (200, "0", "6", null),
                (429, "0", "6", TimeSpan.FromSeconds(2)),
                (200, "0", "6", null),
                (200, "2", "2", null),
            ],
            seen);
    }

    private static async Task<(int Status, string Remaining, string Reset, TimeSpan? RetryAfter)> CallAsync(TestGateway gateway, string key)
    {
        using var response = await gateway.Data.SendAsync(TestGateway.Get("alpha/1", key));
        Assert.Equal("3", response.Headers.GetValues("X-RateLimit-Limit").Single());
        return (
            (int)response.StatusCode,
            response.Headers.GetValues("X-RateLimit-Remaining").Single(),
            response.Headers.GetValues("X-RateLimit-Reset").Single(),
            response.Headers.RetryAfter?.Delta);
    }
}
