using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Gateway.Core.Keys;
using Gateway.Proxy.Keys;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Keys;

/// <summary>
/// Keys not in memory cost a storage read each; how many a client network (and the whole instance) may cause per
/// second is bounded, and the excess is refused with 429 before storage is touched. Clients on other networks are
/// unaffected. Client networks here are loopback addresses in different /24s (all of 127.0.0.0/8 is local).
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class KeyLookupLimitTests(Azurite azurite) : GatewayTest(azurite)
{
    private const int PerNetwork = 2;
    private static readonly ApiKeyFormat Format = new("test");

    [Fact]
    public async Task ForgedKeysFromOneNetwork_BeyondTheLimit_Get429WithoutStorageReads_AndOtherNetworksAreServed()
    {
        var storage = new StorageRequestCounter();
        await using var gateway = await StartGatewayAsync(
            settings: s => s["Gateway:Keys:UnknownKeyReadsPerSecondPerNetwork"] = PerNetwork.ToString(System.Globalization.CultureInfo.InvariantCulture),
            services: s => s.AddSingleton(storage.Options()));
        var customer = await gateway.CreateCustomerAsync();
        var (_, key) = await gateway.IssueKeyAsync(customer);

        // The counter sees reads: a forged key from each of three networks is one storage read each.
        var before = storage.Reads;
        foreach (var network in new[] { "127.0.1.1", "127.0.2.1", "127.0.3.1" })
        {
            using var client = ClientFrom(gateway, network);
            using var response = await client.SendAsync(TestGateway.Get("alpha/1", Format.Generate().Key));
            await Problems.AssertAsync(response, 401, "urn:gateway:problem:invalid-api-key");
        }

        Assert.Equal(before + 3, storage.Reads);

        // A flood of forged keys from one network: past the bucket, 429 and no further reads.
        using var flooder = ClientFrom(gateway, "127.0.9.1");
        var readsBeforeFlood = storage.Reads;
        var flood = Stopwatch.StartNew();
        int refused = 0, looked = 0;
        for (var i = 0; i < 40; i++)
        {
            using var response = await flooder.SendAsync(TestGateway.Get("alpha/1", Format.Generate().Key));
            if ((int)response.StatusCode == 429)
            {
                await Problems.AssertAsync(response, 429, "urn:gateway:problem:too-many-key-lookups");
                Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
                refused++;
            }
            else
            {
                await Problems.AssertAsync(response, 401, "urn:gateway:problem:invalid-api-key");
                looked++;
            }
        }

        flood.Stop();
        Assert.Equal(readsBeforeFlood + looked, storage.Reads);
        var allowed = PerNetwork * (1 + (int)Math.Ceiling(flood.Elapsed.TotalSeconds));
        Assert.True(looked <= allowed, $"{looked} lookups in {flood.Elapsed.TotalSeconds:0.0} s, at most {allowed} allowed");
        Assert.Equal(40 - looked, refused);

        // The flooded network gets lookups again once its bucket refills (every second).
        var recovered = false;
        for (var attempt = 0; attempt < 50 && !recovered; attempt++)
        {
            await Task.Delay(100);
            using var response = await flooder.SendAsync(TestGateway.Get("alpha/1", Format.Generate().Key));
            recovered = (int)response.StatusCode == 401;
        }

        Assert.True(recovered, "the flooded network never got a lookup again");

        // Another network is still served, and a real key not yet in memory gets through from it.
        using var neighbour = ClientFrom(gateway, "127.0.10.1");
        using (var forged = await neighbour.SendAsync(TestGateway.Get("alpha/1", Format.Generate().Key)))
        {
            await Problems.AssertAsync(forged, 401, "urn:gateway:problem:invalid-api-key");
        }

        using var real = await neighbour.SendAsync(TestGateway.Get("alpha/1", key));
        Assert.Equal(HttpStatusCode.OK, real.StatusCode);
    }

    [Fact]
    public async Task NewKey_ManyConcurrentFirstCalls_ShareOneLookup()
    {
        await using var gateway = await StartGatewayAsync(settings: s => s["Gateway:Keys:UnknownKeyReadsPerSecondPerNetwork"] = "1");
        var (_, key) = await gateway.IssueKeyAsync(await gateway.CreateCustomerAsync());

        var statuses = await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            using var response = await gateway.Data.SendAsync(TestGateway.Get("alpha/1", key));
            return response.StatusCode;
        }));

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
    }

    [Theory]
    [InlineData("203.0.113.7", "203.0.113.200", true)]
    [InlineData("203.0.113.7", "203.0.114.7", false)]
    [InlineData("203.0.113.7", "::ffff:203.0.113.9", true)]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2:ffff::9", true)]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:3::1", false)]
    [InlineData("0.0.0.0", "::", false)]
    public void ClientNetwork_GroupsIPv4By24AndIPv6By64(string a, string b, bool same)
    {
        Assert.Equal(same, ClientNetwork.Of(IPAddress.Parse(a)) == ClientNetwork.Of(IPAddress.Parse(b)));
    }

    /// <summary>A data-plane client whose connections come from <paramref name="source"/>.</summary>
    private static HttpClient ClientFrom(TestGateway gateway, string source) => SyntheticClients.From(gateway, source);
}
