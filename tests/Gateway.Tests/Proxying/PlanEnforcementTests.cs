using System.Net;
using System.Text.Json;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Metering;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Proxying;

[Collection(UsesAzurite.Name)]
public sealed class PlanEnforcementTests(Azurite azurite) : GatewayTest(azurite)
{
    [Fact]
    public async Task BlockingPlan_UnderConcurrency_ServesExactlyTheQuota_ThenReturns429Quota()
    {
        await using var gateway = await StartGatewayAsync(settings: s => s["Gateway:Plans:open:MonthlyQuota"] = "25");
        var customer = await gateway.CreateCustomerAsync();
        var (_, key) = await gateway.IssueKeyAsync(customer);

        var statuses = await ExactMeteringTests.SendAllAsync(gateway.Data, [.. Enumerable.Repeat((key, "alpha/1"), 80)], parallelism: 16);

        Assert.Equal(25, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(55, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.Equal(25, Upstream.Received.Count);
        using var refused = await gateway.Data.SendAsync(TestGateway.Get("alpha/1", key));
        await Problems.AssertAsync(refused, 429, "urn:gateway:problem:quota-exhausted");
        Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero);

        var usage = await gateway.UsageAsync(customer);
        Assert.Equal(25, usage.GetProperty("total").GetInt64());
        Assert.Equal(56, usage.GetProperty("rejected").GetInt64());
    }

    [Fact]
    public async Task BillingPlan_PastTheQuota_ServesAndCountsOverage()
    {
        await using var gateway = await StartGatewayAsync(settings: s =>
        {
            s["Gateway:Plans:open:MonthlyQuota"] = "10";
            s["Gateway:Plans:open:OverQuota"] = "Bill";
        });
        var customer = await gateway.CreateCustomerAsync();
        var (_, key) = await gateway.IssueKeyAsync(customer);

        var statuses = await ExactMeteringTests.SendAllAsync(gateway.Data, [.. Enumerable.Repeat((key, "alpha/1"), 30)], parallelism: 8);

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        using var self = await gateway.Data.SendAsync(TestGateway.Get("_gateway/usage", key));
        var mine = JsonDocument.Parse(await self.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(30, mine.GetProperty("used").GetInt64());
        Assert.Equal(10, mine.GetProperty("included").GetInt64());
        Assert.Equal(0, mine.GetProperty("remaining").GetInt64());
        Assert.Equal(20, mine.GetProperty("overage").GetInt64());
        Assert.Equal("bill", mine.GetProperty("overQuota").GetString());
        Assert.Equal(30, (await gateway.UsageAsync(customer)).GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task RateLimit_PastTheBurst_Returns429WithRetryAfter_AndHeadersOnEveryResponse()
    {
        // The clock moves only when the test moves it: no refill can sneak in between requests on a slow machine.
        var time = new FakeTimeProvider(TestClock.RunStart);
        await using var gateway = await StartGatewayAsync(
            settings: s =>
            {
                s["Gateway:Plans:open:RequestsPerSecond"] = "0.5";
                s["Gateway:Plans:open:Burst"] = "3";
            },
            services: s => s.AddSingleton<TimeProvider>(time));
        var customer = await gateway.CreateCustomerAsync();
        var (_, key) = await gateway.IssueKeyAsync(customer);

        var responses = new List<HttpResponseMessage>();
        for (var i = 0; i < 5; i++)
        {
            responses.Add(await gateway.Data.SendAsync(TestGateway.Get("alpha/1", key)));
        }

        Assert.Equal([200, 200, 200, 429, 429], responses.Select(r => (int)r.StatusCode));
        Assert.Equal(["2", "1", "0", "0", "0"], responses.Select(r => Header(r, "X-RateLimit-Remaining")));
        Assert.All(responses, r => Assert.Equal("3", Header(r, "X-RateLimit-Limit")));

        // Reset: seconds until the bucket is full again, at 0.5 tokens/s: 2 s per missing token.
        Assert.Equal(["2", "4", "6", "6", "6"], responses.Select(r => Header(r, "X-RateLimit-Reset")));
        await Problems.AssertAsync(responses[3], 429, "urn:gateway:problem:rate-limited");
        Assert.Equal(TimeSpan.FromSeconds(2), responses[3].Headers.RetryAfter?.Delta);
        Assert.Equal(3, Upstream.Received.Count);
        responses.ForEach(r => r.Dispose());

        // 1.5 s later there is still no whole token (0.75); 1 s after that there is (1.25).
        time.Advance(TimeSpan.FromSeconds(1.5));
        using (var early = await gateway.Data.SendAsync(TestGateway.Get("alpha/1", key)))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, early.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(1), early.Headers.RetryAfter?.Delta);
            Assert.Equal("5", Header(early, "X-RateLimit-Reset"));
        }

        time.Advance(TimeSpan.FromSeconds(1));
        using (var refilled = await gateway.Data.SendAsync(TestGateway.Get("alpha/1", key)))
        {
            Assert.Equal(HttpStatusCode.OK, refilled.StatusCode);
            Assert.Equal("0", Header(refilled, "X-RateLimit-Remaining"));
            Assert.Equal("6", Header(refilled, "X-RateLimit-Reset"));
        }

        // A bucket left alone fills up to the burst and no further.
        time.Advance(TimeSpan.FromMinutes(10));
        using (var full = await gateway.Data.SendAsync(TestGateway.Get("alpha/1", key)))
        {
            Assert.Equal("2", Header(full, "X-RateLimit-Remaining"));
            Assert.Equal("2", Header(full, "X-RateLimit-Reset"));
        }

        var usage = await gateway.UsageAsync(customer);
        Assert.Equal(5, usage.GetProperty("total").GetInt64());
        Assert.Contains(usage.GetProperty("buckets").EnumerateArray(), b =>
            b.GetProperty("statusClass").GetString() == "rejected-rate-limited" && b.GetProperty("count").GetInt64() == 3);
    }

    [Fact]
    public async Task RateLimits_ArePerKey()
    {
        var time = new FakeTimeProvider(TestClock.RunStart);
        await using var gateway = await StartGatewayAsync(
            settings: s =>
            {
                s["Gateway:Plans:open:RequestsPerSecond"] = "0.1";
                s["Gateway:Plans:open:Burst"] = "1";
            },
            services: s => s.AddSingleton<TimeProvider>(time));
        var customer = await gateway.CreateCustomerAsync();
        var (_, first) = await gateway.IssueKeyAsync(customer);
        var (_, second) = await gateway.IssueKeyAsync(customer);

        using var a1 = await gateway.Data.SendAsync(TestGateway.Get("alpha/1", first));
        using var a2 = await gateway.Data.SendAsync(TestGateway.Get("alpha/1", first));
        using var b1 = await gateway.Data.SendAsync(TestGateway.Get("alpha/1", second));
        time.Advance(TimeSpan.FromSeconds(10));
        using var a3 = await gateway.Data.SendAsync(TestGateway.Get("alpha/1", first));

        Assert.Equal(
            [HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.OK, HttpStatusCode.OK],
            new[] { a1.StatusCode, a2.StatusCode, b1.StatusCode, a3.StatusCode });
    }

    private static string Header(HttpResponseMessage response, string name) => response.Headers.GetValues(name).Single();
}
