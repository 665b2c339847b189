using System.Diagnostics;
using System.Net;
using Gateway.Core.Keys;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Keys;

/// <summary>
/// Table Storage that stops answering (Azurite frozen with SIGSTOP, as in an outage): keys in memory keep being
/// served; a key that is not gets a prompt 503 within <c>Gateway:Keys:VerifyTimeout</c>, never a 500 after the SDK's
/// whole retry budget.
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
}
