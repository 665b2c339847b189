using System.Net;
using System.Text.Json;
using Gateway.Core.Usage;
using Gateway.Proxy.Metering;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Proxying;

/// <summary>
/// Calls the upstream never answered (refused, timed out, broken off, or left by the caller) are gateway failures:
/// a problem+json of their own when the caller can still get one, counted apart, never billable, and their quota
/// given back. Route <c>alpha</c> goes to a closed port, <c>beta</c> to a working upstream, <c>gamma</c> to a
/// <see cref="FaultyUpstream"/>.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class GatewayFailureTests(Azurite azurite) : GatewayTest(azurite)
{
    private const string UpstreamUnavailable = "urn:gateway:problem:upstream-unavailable";
    private const string UpstreamTimeout = "urn:gateway:problem:upstream-timeout";

    private FaultyUpstream _faulty = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _faulty = await FaultyUpstream.StartAsync();
    }

    public override async Task DisposeAsync()
    {
        await _faulty.DisposeAsync();
        await base.DisposeAsync();
    }

    [Fact]
    public async Task UpstreamDown_CallsOnABlockingKey_Get502ProblemAreNotBilled_AndKeepTheQuota()
    {
        await using var gateway = await StartAsync(s => s["Gateway:Plans:open:MonthlyQuota"] = "100");
        var customer = await gateway.CreateCustomerAsync();
        var (keyId, key) = await gateway.IssueKeyAsync(customer);

        var failed = await SendAllAsync(gateway.Data, key, "alpha/1", count: 120, parallelism: 8);

        Assert.All(failed, f => Assert.Equal<(int, string?)>((502, UpstreamUnavailable), f));
        var usage = await gateway.UsageAsync(customer);
        Assert.Equal(120, usage.GetProperty("gatewayErrors").GetInt64());
        Assert.Equal(0, usage.GetProperty("total").GetInt64());
        Assert.Equal(0, usage.GetProperty("rejected").GetInt64());
        Assert.Equal(120, Bucket(usage, "alpha", "gateway-error"));
        await FlushAsync(gateway);
        Assert.Equal(0, await StoredMonthCountAsync(gateway, customer, keyId, UsageCalendar.MonthOf(gateway.Services.GetRequiredService<TimeProvider>().GetUtcNow())));

        // The upstream is back (the same key, on a route whose cluster answers): the month's 100 calls are all there.
        var served = await SendAllAsync(gateway.Data, key, "beta/1", count: 101, parallelism: 8);

        Assert.Equal(100, served.Count(s => s.Status == 200));
        Assert.Equal(1, served.Count(s => s.Status == 429));
        Assert.Equal(100, Upstream.Received.Count);
        usage = await gateway.UsageAsync(customer);
        Assert.Equal(100, usage.GetProperty("total").GetInt64());
        Assert.Equal(120, usage.GetProperty("gatewayErrors").GetInt64());
        await FlushAsync(gateway);
        Assert.Equal(100, await StoredMonthCountAsync(gateway, customer, keyId, UsageCalendar.MonthOf(gateway.Services.GetRequiredService<TimeProvider>().GetUtcNow())));
    }

    [Fact]
    public async Task UpstreamNotAnsweringInTime_Returns504Problem_AndGivesTheQuotaBack()
    {
        await using var gateway = await StartAsync(s => s["Gateway:Plans:open:MonthlyQuota"] = "1");
        var customer = await gateway.CreateCustomerAsync();
        var (_, key) = await gateway.IssueKeyAsync(customer);

        // No answer at all, then an answer whose body never comes: both past the cluster's 0.5 s ActivityTimeout.
        using (var silent = await gateway.Data.SendAsync(TestGateway.Get("gamma/hang", key)))
        {
            await Problems.AssertAsync(silent, 504, UpstreamTimeout);
        }

        using (var stalled = await gateway.Data.SendAsync(TestGateway.Get("gamma/stall", key)))
        {
            await Problems.AssertAsync(stalled, 504, UpstreamTimeout);
        }

        using (var served = await gateway.Data.SendAsync(TestGateway.Get("beta/1", key)))
        {
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        }

        using (var exhausted = await gateway.Data.SendAsync(TestGateway.Get("beta/1", key)))
        {
            await Problems.AssertAsync(exhausted, 429, "urn:gateway:problem:quota-exhausted");
        }

        var usage = await gateway.UsageAsync(customer);
        Assert.Equal(2, usage.GetProperty("gatewayErrors").GetInt64());
        Assert.Equal(1, usage.GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task UpstreamAnswering503_IsAnUpstreamAnswerCountedAs5xx_NotBilledByDefault_AndGivesTheQuotaBack()
    {
        await using var gateway = await StartAsync(s => s["Gateway:Plans:open:MonthlyQuota"] = "1");
        var customer = await gateway.CreateCustomerAsync();
        var (_, key) = await gateway.IssueKeyAsync(customer);

        using (var answered = await gateway.Data.SendAsync(TestGateway.Get("beta/status/503", key)))
        {
            // The upstream's own answer, passed on as it was: not one of the gateway's problems.
            Assert.Equal(HttpStatusCode.ServiceUnavailable, answered.StatusCode);
            Assert.Equal("application/json", answered.Content.Headers.ContentType?.MediaType);
        }

        using (var served = await gateway.Data.SendAsync(TestGateway.Get("beta/1", key)))
        {
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        }

        using (var exhausted = await gateway.Data.SendAsync(TestGateway.Get("beta/1", key)))
        {
            await Problems.AssertAsync(exhausted, 429, "urn:gateway:problem:quota-exhausted");
        }

        var usage = await gateway.UsageAsync(customer);
        Assert.Equal(1, usage.GetProperty("total").GetInt64());
        Assert.Equal(1, usage.GetProperty("upstreamNotBilled").GetInt64());
        Assert.Equal(0, usage.GetProperty("gatewayErrors").GetInt64());
        Assert.Equal(1, Bucket(usage, "beta", "5xx"));
    }

    [Fact]
    public async Task UpstreamAnswering503_OnAPlanThatBills5xx_UsesTheQuota()
    {
        await using var gateway = await StartAsync(s =>
        {
            s["Gateway:Plans:open:MonthlyQuota"] = "1";
            s["Gateway:Plans:open:Billable:0"] = "2xx";
            s["Gateway:Plans:open:Billable:1"] = "5xx";
        });
        var customer = await gateway.CreateCustomerAsync();
        var (_, key) = await gateway.IssueKeyAsync(customer);

        using (var answered = await gateway.Data.SendAsync(TestGateway.Get("beta/status/503", key)))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, answered.StatusCode);
        }

        using (var exhausted = await gateway.Data.SendAsync(TestGateway.Get("beta/1", key)))
        {
            await Problems.AssertAsync(exhausted, 429, "urn:gateway:problem:quota-exhausted");
        }

        var usage = await gateway.UsageAsync(customer);
        Assert.Equal(1, usage.GetProperty("total").GetInt64());
        Assert.Equal(0, usage.GetProperty("upstreamNotBilled").GetInt64());
    }

    [Fact]
    public async Task UpstreamBreakingOffMidBody_IsAGatewayError_AndGivesTheQuotaBack()
    {
        await using var gateway = await StartAsync(s => s["Gateway:Plans:open:MonthlyQuota"] = "1");
        var customer = await gateway.CreateCustomerAsync();
        var (_, key) = await gateway.IssueKeyAsync(customer);

        // Status, headers and part of the body reached the caller; then the upstream drops the connection. Nothing
        // can be written any more: the caller sees a truncated response.
        using (var started = await gateway.Data.SendAsync(TestGateway.Get("gamma/break", key), HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, started.StatusCode);
            _faulty.Release();
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => started.Content.ReadAsStringAsync());
        }

        var usage = await UsageOnceCountedAsync(gateway, customer, calls: 1);

        Assert.Equal(1, usage.GetProperty("gatewayErrors").GetInt64());
        Assert.Equal(0, usage.GetProperty("total").GetInt64());
        using var served = await gateway.Data.SendAsync(TestGateway.Get("beta/1", key));
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
    }

    [Fact]
    public async Task CallerLeavingBeforeTheAnswer_IsCountedAsClientAborted_AndGivesTheQuotaBack()
    {
        await using var gateway = await StartAsync(s =>
        {
            s["Gateway:Plans:open:MonthlyQuota"] = "1";
            s["ReverseProxy:Clusters:faulty:HttpRequest:ActivityTimeout"] = "00:00:30";
        });
        var customer = await gateway.CreateCustomerAsync();
        var (_, key) = await gateway.IssueKeyAsync(customer);

        using var leaving = new CancellationTokenSource();
        var received = _faulty.Received;
        var call = gateway.Data.SendAsync(TestGateway.Get("gamma/hang", key), leaving.Token);
        await received.WaitAsync(TimeSpan.FromSeconds(10));
        await leaving.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        var usage = await UsageOnceCountedAsync(gateway, customer, calls: 1);

        Assert.Equal(1, usage.GetProperty("clientAborted").GetInt64());
        Assert.Equal(0, usage.GetProperty("gatewayErrors").GetInt64());
        Assert.Equal(0, usage.GetProperty("total").GetInt64());
        using var served = await gateway.Data.SendAsync(TestGateway.Get("beta/1", key));
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
    }

    [Fact]
    public async Task UpstreamDown_OnABillingKey_AddsNoOverage()
    {
        await using var gateway = await StartAsync(s =>
        {
            s["Gateway:Plans:open:MonthlyQuota"] = "2";
            s["Gateway:Plans:open:OverQuota"] = "Bill";
        });
        var customer = await gateway.CreateCustomerAsync();
        var (_, key) = await gateway.IssueKeyAsync(customer);

        var failed = await SendAllAsync(gateway.Data, key, "alpha/1", count: 5, parallelism: 2);
        var afterFailures = await DeveloperUsageAsync(gateway, key);
        var served = await SendAllAsync(gateway.Data, key, "beta/1", count: 3, parallelism: 1);
        var afterServed = await DeveloperUsageAsync(gateway, key);

        Assert.All(failed, f => Assert.Equal<(int, string?)>((502, UpstreamUnavailable), f));
        Assert.Equal((0, 0), (afterFailures.GetProperty("used").GetInt64(), afterFailures.GetProperty("overage").GetInt64()));
        Assert.All(served, s => Assert.Equal(200, s.Status));
        Assert.Equal((3, 1), (afterServed.GetProperty("used").GetInt64(), afterServed.GetProperty("overage").GetInt64()));
    }

    [Fact]
    public async Task GatewayError_ForACallAdmittedBeforeTheMonthRolledOver_IsRefundedToThatMonth()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 30, 23, 59, 59, TimeSpan.Zero));
        await using var gateway = await StartAsync(
            s =>
            {
                s["Gateway:Plans:open:MonthlyQuota"] = "3";
                s["ReverseProxy:Clusters:faulty:HttpRequest:ActivityTimeout"] = "00:00:30";
            },
            services => services.AddSingleton<TimeProvider>(time));
        var customer = await gateway.CreateCustomerAsync();
        var (keyId, key) = await gateway.IssueKeyAsync(customer);
        var november = UsageCalendar.MonthOf(time.GetUtcNow());

        var received = _faulty.Received;
        var call = gateway.Data.SendAsync(TestGateway.Get("gamma/hold", key));
        await received.WaitAsync(TimeSpan.FromSeconds(10));
        time.Advance(TimeSpan.FromSeconds(2));

        // December now: this flush writes November's admitted call and drops November from memory.
        await FlushAsync(gateway);
        Assert.Equal(1, await StoredMonthCountAsync(gateway, customer, keyId, november));
        _faulty.Release();
        using (var failed = await call)
        {
            await Problems.AssertAsync(failed, 502, UpstreamUnavailable);
        }

        await FlushAsync(gateway);
        Assert.Equal(0, await StoredMonthCountAsync(gateway, customer, keyId, november));
        Assert.Equal(0, await StoredMonthCountAsync(gateway, customer, keyId, november + 1));
        var december = await SendAllAsync(gateway.Data, key, "beta/1", count: 4, parallelism: 1);
        Assert.Equal([200, 200, 200, 429], december.Select(d => d.Status));
    }

    private Task<TestGateway> StartAsync(Action<Dictionary<string, string?>> settings, Action<IServiceCollection>? services = null) =>
        StartGatewayAsync(
            s =>
            {
                s["ReverseProxy:Routes:alpha:ClusterId"] = "down";
                s["ReverseProxy:Clusters:down:Destinations:d1:Address"] = $"http://127.0.0.1:{FreePort.Take(1)[0]}/";
                s["ReverseProxy:Routes:gamma:ClusterId"] = "faulty";
                s["ReverseProxy:Clusters:faulty:Destinations:d1:Address"] = _faulty.Address;
                s["ReverseProxy:Clusters:faulty:HttpRequest:ActivityTimeout"] = "00:00:00.500";
                s["Gateway:Metering:FlushInterval"] = "00:05:00";
                settings(s);
            },
            services: services);

    private static async Task<(int Status, string? ProblemType)[]> SendAllAsync(HttpClient client, string key, string path, int count, int parallelism)
    {
        var results = new (int, string?)[count];
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (i, ct) =>
        {
            using var response = await client.SendAsync(TestGateway.Get(path, key), ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            var type = response.Content.Headers.ContentType?.MediaType == "application/problem+json"
                ? JsonDocument.Parse(body).RootElement.GetProperty("type").GetString()
                : null;
            results[i] = ((int)response.StatusCode, type);
        });
        return results;
    }

    /// <summary>The report once the gateway has counted <paramref name="calls"/> (it counts after the caller has gone).</summary>
    private static async Task<JsonElement> UsageOnceCountedAsync(TestGateway gateway, string customer, int calls)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var usage = await gateway.UsageAsync(customer);
            var counted = usage.GetProperty("buckets").EnumerateArray().Sum(b => b.GetProperty("count").GetInt64());
            if (counted >= calls || DateTime.UtcNow > deadline)
            {
                return usage;
            }

            await Task.Delay(20);
        }
    }

    private static async Task<JsonElement> DeveloperUsageAsync(TestGateway gateway, string key)
    {
        using var response = await gateway.Data.SendAsync(TestGateway.Get("_gateway/usage", key));
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }

    private static long Bucket(JsonElement usage, string routeGroup, string outcome) =>
        usage.GetProperty("buckets").EnumerateArray()
            .Where(b => b.GetProperty("routeGroup").GetString() == routeGroup && b.GetProperty("statusClass").GetString() == outcome)
            .Sum(b => b.GetProperty("count").GetInt64());

    private static async Task FlushAsync(TestGateway gateway) =>
        Assert.True((await gateway.Services.GetRequiredService<UsageFlushService>().FlushAsync(CancellationToken.None)).Complete);

    /// <summary>The key's month rows in storage (the quota baseline other instances and later runs read), summed over writers.</summary>
    private static Task<long> StoredMonthCountAsync(TestGateway gateway, string customer, string keyId, int month) =>
        gateway.Services.GetRequiredService<UsageTable>().ReadMonthTotalAsync(customer, keyId, month, exceptWriter: null, CancellationToken.None);
}
