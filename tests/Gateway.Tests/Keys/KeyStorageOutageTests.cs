using System.Diagnostics;
using System.Net;
using Gateway.Core.Keys;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Keys;

/// <summary>
/// Table Storage that stops answering (Azurite frozen with SIGSTOP, as in an outage): keys in memory keep being
/// served; a key that is not gets a prompt 503 within <c>Gateway:Keys:VerifyTimeout</c>, never a 500 after the SDK's
/// whole retry budget. With <c>Gateway:Keys:MaxStaleness</c> set, a key in memory is served only until its last
/// successful read is that old (fail-closed after a bound); unset, however long the outage lasts (fail-open).
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class KeyStorageOutageTests(Azurite azurite) : GatewayTest(azurite)
{
    [Fact]
    public async Task UncachedKey_WhileStorageHangs_Gets503WithRetryAfterWithinTheDeadline_AndCachedKeysAreServed()
    {
        await using var gateway = await StartGatewayAsync(settings: s => s["Gateway:Keys:VerifyTimeout"] = "00:00:02");
        var customer = await gateway.CreateCustomerAsync();
        var (_, cached) = await gateway.IssueKeyAsync(customer);
        var (_, uncached) = await gateway.IssueKeyAsync(customer);
        var forged = new ApiKeyFormat("test").Generate().Key;
        using (var warm = await gateway.Data.SendAsync(TestGateway.Get("alpha/1", cached)))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        Azurite.Freeze();
        try
        {
            var waited = Stopwatch.StartNew();
            var uncachedCalls = new[] { uncached, uncached, forged }
                .Select(async key =>
                {
                    using var response = await gateway.Data.SendAsync(TestGateway.Get("alpha/1", key));
                    await Problems.AssertAsync(response, 503, "urn:gateway:problem:storage-unavailable");
                    Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, "503 without Retry-After");
                    return waited.Elapsed;
                })
                .ToArray();

            // Meanwhile, and after: the key in memory is served as usual.
            for (var i = 0; i < 20; i++)
            {
                using var response = await gateway.Data.SendAsync(TestGateway.Get("alpha/1", cached));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            var answeredAfter = await Task.WhenAll(uncachedCalls);
            Assert.All(answeredAfter, elapsed => Assert.True(elapsed < TimeSpan.FromSeconds(5), $"503 only after {elapsed.TotalSeconds:0.0} s"));
        }
        finally
        {
            Azurite.Thaw();
        }

        using var recovered = await gateway.Data.SendAsync(TestGateway.Get("alpha/1", uncached));
        Assert.Equal(HttpStatusCode.OK, recovered.StatusCode);
    }

    [Fact]
    public async Task CachedKey_WithMaxStaleness_IsServedUntilItsLastReadIsThatOld_Then503_AndServedAgainOnceARereadSucceeds()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2030, 6, 15, 12, 0, 0, TimeSpan.Zero));
        var storage = new StorageSwitch();
        await using var gateway = await StartGatewayAsync(
            settings: s =>
            {
                s["Gateway:Keys:CacheRefresh"] = "00:00:10";
                s["Gateway:Keys:MaxStaleness"] = "00:01:00";
            },
            services: s => s.AddSingleton<TimeProvider>(time).AddSingleton(storage.Options()));
        var customer = await gateway.CreateCustomerAsync();
        var (_, key) = await gateway.IssueKeyAsync(customer);
        await AssertServedAsync(gateway, key);

        storage.Refuse();
        time.Advance(TimeSpan.FromSeconds(30)); // past the refresh: each call now tries a re-read, which fails
        await AssertServedAsync(gateway, key);
        time.Advance(TimeSpan.FromSeconds(29.9));
        await AssertServedAsync(gateway, key);

        time.Advance(TimeSpan.FromSeconds(0.2)); // the last successful read is now more than a minute old
        using (var stale = await gateway.Data.SendAsync(TestGateway.Get("alpha/1", key)))
        {
            await Problems.AssertAsync(stale, 503, "urn:gateway:problem:storage-unavailable");
            Assert.Equal(TimeSpan.FromSeconds(1), stale.Headers.RetryAfter?.Delta);
        }

        // Storage answers again: the call that finds the entry due starts a re-read; once it has succeeded the key is
        // served again (and stays so for another minute).
        storage.Answer();
        var served = false;
        for (var attempt = 0; attempt < 100 && !served; attempt++)
        {
            using var response = await gateway.Data.SendAsync(TestGateway.Get("alpha/1", key));
            served = response.StatusCode == HttpStatusCode.OK;
            if (!served)
            {
                await Problems.AssertAsync(response, 503, "urn:gateway:problem:storage-unavailable");
                await Task.Delay(50);
            }
        }

        Assert.True(served, "the key was not served again after storage answered");
        time.Advance(TimeSpan.FromSeconds(59));
        await AssertServedAsync(gateway, key);
    }

    [Fact]
    public async Task CachedKey_WithoutMaxStaleness_IsServedThroughAStorageOutageOfAnyLength()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2030, 6, 15, 12, 0, 0, TimeSpan.Zero));
        var storage = new StorageSwitch();
        await using var gateway = await StartGatewayAsync(
            settings: s => s["Gateway:Keys:CacheRefresh"] = "00:00:10",
            services: s => s.AddSingleton<TimeProvider>(time).AddSingleton(storage.Options()));
        var customer = await gateway.CreateCustomerAsync();
        var (_, key) = await gateway.IssueKeyAsync(customer);
        await AssertServedAsync(gateway, key);

        storage.Refuse();
        foreach (var step in new[] { TimeSpan.FromSeconds(11), TimeSpan.FromMinutes(5), TimeSpan.FromHours(1), TimeSpan.FromDays(2) })
        {
            time.Advance(step);
            await AssertServedAsync(gateway, key);
        }

        storage.Answer();
    }

    private static async Task AssertServedAsync(TestGateway gateway, string key)
    {
        using var response = await gateway.Data.SendAsync(TestGateway.Get("alpha/1", key));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
