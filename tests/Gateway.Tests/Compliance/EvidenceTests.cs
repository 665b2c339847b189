using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Gateway.Compliance;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Compliance;

/// <summary>Evidence recorded by the real gateway per key and hour, and written to the evidence table by the flush.</summary>
[Collection(UsesAzurite.Name)]
public sealed class EvidenceTests(Azurite azurite) : SharedGatewayTest(azurite)
{
    protected override void Settings(Dictionary<string, string?> settings) =>
        settings["Gateway:Compliance:FlushInterval"] = "01:00:00";

    [Fact]
    public async Task Calls_FromThreeNetworksAndTwoAgents_AreStoredAsOneKeyHour_WithRefusalsByKind()
    {
        var customer = await Gateway.CreateCustomerAsync();
        var (id, key) = await Gateway.IssueKeyAsync(customer, "narrow");
        string[] sources = ["127.0.1.10", "127.0.1.11", "127.0.2.10", "127.0.3.10"];
        foreach (var (source, i) in sources.Select((s, i) => (s, i)))
        {
            using var client = SyntheticClients.From(Gateway, source, i % 2 == 0 ? "display-app/1.0" : "display-app/2.0");
            (await client.SendAsync(TestGateway.Get("alpha/1", key))).EnsureSuccessStatusCode();
        }

        using (var outside = SyntheticClients.From(Gateway, "127.0.1.12", "display-app/1.0"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await outside.SendAsync(TestGateway.Get("beta/1", key))).StatusCode);
        }

        await Gateway.Services.GetRequiredService<EvidenceRecorder>().FlushAsync(default);
        var stored = await Gateway.Services.GetRequiredService<EvidenceTable>().ReadAsync(0, default);

        var evidence = Assert.Single(stored, e => e.KeyId == id);
        Assert.Equal((customer, "narrow"), (evidence.CustomerId, evidence.Plan));
        var hour = Assert.Single(evidence.Hours);
        Assert.Equal(TestClock.Instance.GetUtcNow().UtcTicks / TimeSpan.TicksPerHour, hour.Hour);
        Assert.Equal((4, 1, 0, 0), (hour.Calls, hour.UnlicensedRoute, hour.AfterRevocation, hour.QuotaRefusals));
        Assert.Equal(["127.0.1.0/24", "127.0.2.0/24", "127.0.3.0/24"], hour.Networks.Select(EvidenceNetwork.Describe).Order());
        Assert.Equal(2, hour.UserAgents.Count);
    }
}
