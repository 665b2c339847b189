using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Messaging.ServiceBus;
using Gateway.Compliance;
using Gateway.ServiceBusBroker;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Compliance;

/// <summary>
/// Past one machine flags go out on the <c>compliance-flags</c> topic (the in-repo Service Bus broker here) for
/// downstream tools: one message per flag raised or grown, none for a scan that changed nothing.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class FlagPublishingTests(Azurite azurite) : GatewayTest(azurite)
{
    [Fact]
    public async Task ScanThatRaisesAFlag_WithServiceBusConfigured_PublishesItOnTheComplianceFlagsTopic_OnceUntilItGrows()
    {
        var options = new BrokerOptions { Topics = { "key-changes", "compliance-flags" } };
        options.Subscriptions.Add("key-changes/gateway-1");
        options.Subscriptions.Add("compliance-flags/tools");
        await using var broker = await ServiceBusTestBroker.StartAsync(options);
        await using var gateway = await StartGatewayAsync(s =>
        {
            s["Gateway:ServiceBus:ConnectionString"] = broker.ConnectionString;
            s["Gateway:ServiceBus:Subscription"] = "gateway-1";
            s["Gateway:ServiceBus:PublishTimeout"] = "00:00:15";
            s["Gateway:Compliance:FlushInterval"] = "01:00:00";
            s["Gateway:Compliance:Plans:narrow:Detection:UnlicensedRouteAttempts"] = "3";
        });
        var customer = await gateway.CreateCustomerAsync();
        var (keyId, key) = await gateway.IssueKeyAsync(customer, "narrow");
        await CallsAsync(gateway, key, "beta/1", 4);
        await using var client = new ServiceBusClient(broker.ConnectionString);
        await using var tools = client.CreateReceiver("compliance-flags", "tools");

        Assert.IsType<ServiceBusComplianceFlagPublisher>(Assert.Single(gateway.Services.GetServices<IComplianceFlagPublisher>()));
        var raised = Assert.Single(await ScanAsync(gateway), f => f.KeyId == keyId);
        var message = await tools.ReceiveMessageAsync(TimeSpan.FromSeconds(10));
        Assert.NotNull(message);
        await tools.CompleteMessageAsync(message);
        await ScanAsync(gateway); // nothing new: the flag does not change, nothing is sent
        var nothing = await tools.ReceiveMessageAsync(TimeSpan.FromSeconds(1));
        await CallsAsync(gateway, key, "beta/2", 2);
        await ScanAsync(gateway);
        var grown = await tools.ReceiveMessageAsync(TimeSpan.FromSeconds(10));

        Assert.Equal((FlagKinds.UnlicensedRoute, raised.Id), (message.Subject, message.MessageId.Split('/')[0]));
        var body = JsonDocument.Parse(message.Body.ToString()).RootElement;
        Assert.Equal((keyId, customer, 4L), (body.GetProperty("keyId").GetString(), body.GetProperty("customerId").GetString(), body.GetProperty("evidence").GetProperty("attempts").GetInt64()));
        Assert.Equal(customer, message.ApplicationProperties["customerId"]);
        Assert.Null(nothing);
        Assert.NotNull(grown);
        Assert.Equal(6, JsonDocument.Parse(grown.Body.ToString()).RootElement.GetProperty("evidence").GetProperty("attempts").GetInt64());
        Assert.NotEqual(message.MessageId, grown.MessageId);
    }

    private static async Task CallsAsync(TestGateway gateway, string key, string path, int count)
    {
        for (var i = 0; i < count; i++)
        {
            using var response = await gateway.Data.SendAsync(TestGateway.Get(path, key));
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }
    }

    private static async Task<IReadOnlyList<ComplianceFlag>> ScanAsync(TestGateway gateway)
    {
        await gateway.Services.GetRequiredService<EvidenceRecorder>().FlushAsync(default);
        return await gateway.Services.GetRequiredService<ComplianceScan>().RunAsync(default);
    }
}
