using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Gateway.Tests.Quotas;

/// <summary>
/// Exact quotas across instances (README, "Quotas and limits"), the small version of issue #13's first fault test:
/// three real gateway processes on one table prefix with quota leases on, one blocking key, concurrent load spread
/// over the three. The full-size run is <c>bench/quota-fault.sh</c>.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class QuotaFaultTests(Azurite azurite, ITestOutputHelper output) : GatewayTest(azurite)
{
    /// <summary>The CI size; <c>bench/quota-fault.sh</c> sets larger ones through the environment.</summary>
    private static readonly int Quota = FaultRunSize.From("QUOTA_FAULT_QUOTA", 300);

    private static readonly int Sent = FaultRunSize.From("QUOTA_FAULT_SENT", 600);

    [Fact]
    public async Task ThreeGateways_OneBlockingQuota_ConcurrentLoad_ServeExactlyTheQuota_AndRefuseEveryOtherCallAsQuotaExhausted()
    {
        var prefix = TestGateway.NewTablePrefix();
        var settings = TestGateway.DefaultSettings(Azurite, Upstream, prefix);
        settings["Gateway:Quotas:Leases:Enabled"] = "true";
        settings["Gateway:Quotas:Leases:BlockSize"] = "50";
        settings["Gateway:Plans:limited:RequestsPerSecond"] = "100000";
        settings["Gateway:Plans:limited:Burst"] = "100000";
        settings["Gateway:Plans:limited:MonthlyQuota"] = Quota.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Gateway:Plans:limited:OverQuota"] = "Block";
        settings["Gateway:Plans:limited:RouteGroups:0"] = "alpha";

        var gateways = new List<GatewayProcess>();
        try
        {
            for (var n = 0; n < 3; n++)
            {
                // Each instance its own name (its journal folder and its writer id) on the one table prefix.
                gateways.Add(await GatewayProcess.StartAsync(new Dictionary<string, string?>(settings) { ["Gateway:Metering:InstanceId"] = $"gateway{n}" }));
            }

            var customer = await gateways[0].CreateCustomerAsync();
            var key = await gateways[0].IssueKeyAsync(customer, "limited");

            foreach (var gateway in gateways)
            {
                // Loads the key into each instance first, with a call outside the plan (403, no quota used): the
                // load's 2 s storage deadline is not what this test measures.
                using var warm = await gateway.Data.SendAsync(TestGateway.Get("beta/1", key));
                Assert.Equal(HttpStatusCode.Forbidden, warm.StatusCode);
            }

            var results = new (HttpStatusCode Status, string? Type)[Sent];
            await Parallel.ForAsync(0, Sent, new ParallelOptions { MaxDegreeOfParallelism = 24 }, async (i, ct) =>
            {
                using var response = await gateways[i % 3].Data.SendAsync(TestGateway.Get("alpha/1", key), ct);
                var type = response.StatusCode == HttpStatusCode.OK ? null : (await response.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("type").GetString();
                results[i] = (response.StatusCode, type);
            });

            var served = results.Count(r => r.Status == HttpStatusCode.OK);
            var refused = results.Count(r => r.Status == HttpStatusCode.TooManyRequests && r.Type == "urn:gateway:problem:quota-exhausted");
            var servedBy = Enumerable.Range(0, 3).Select(g => results.Where((r, i) => i % 3 == g && r.Status == HttpStatusCode.OK).Count()).ToArray();
            long writes = 0, reads = 0;
            foreach (var gateway in gateways)
            {
                using var stats = await gateway.Admin.SendAsync(GatewayProcess.AsAdmin(HttpMethod.Get, "admin/v1/stats", TestGateway.AdminToken));
                var body = await stats.Content.ReadFromJsonAsync<JsonElement>();
                writes += body.GetProperty("quotaLeaseWrites").GetInt64();
                reads += body.GetProperty("quotaLeaseReads").GetInt64();
            }

            output.WriteLine($"sent {Sent}, served {served} (by instance: {string.Join(", ", servedBy)}), refused {refused} (quota-exhausted), other {Sent - served - refused}");
            foreach (var other in results.Where(r => r.Status != HttpStatusCode.OK).GroupBy(r => (r.Status, r.Type)))
            {
                output.WriteLine($"  {(int)other.Key.Status} {other.Key.Type}: {other.Count()}");
            }

            foreach (var line in gateways.SelectMany(g => g.Output).Where(l => l.Contains("lease", StringComparison.OrdinalIgnoreCase) || l.Contains("Exception", StringComparison.Ordinal)).Take(10))
            {
                output.WriteLine(line);
            }

            output.WriteLine($"lease rows read {reads}, written {writes}: {(double)(reads + writes) / Sent:0.000} storage operations per request, {(double)writes / Sent:0.000} writes");
            Assert.Equal(Quota, served);
            Assert.Equal(Sent - Quota, refused);
            Assert.All(servedBy, n => Assert.True(n > 0, "every instance served part of the quota"));
        }
        finally
        {
            foreach (var gateway in gateways)
            {
                await gateway.DisposeAsync();
            }
        }
    }
}
