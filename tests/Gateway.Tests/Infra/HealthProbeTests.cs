using Gateway.Proxy.Hosting.HealthChecks;

namespace Gateway.Tests.Infra;

/// <summary>The Container Apps probes in infra/ call the gateway's health endpoints, on the data port.</summary>
public sealed class HealthProbeTests
{
    private const string GatewayBicep = "infra/modules/gateway.bicep";

    [Theory]
    [InlineData("Startup", HealthEndpoints.Live)]
    [InlineData("Liveness", HealthEndpoints.Live)]
    [InlineData("Readiness", HealthEndpoints.Ready)]
    public void GatewayContainerApp_Probe_CallsTheHealthEndpoint(string type, string path)
    {
        var module = ArmTemplate.Module("gateway", GatewayBicep);
        var app = module.Resource("Microsoft.App/containerApps");
        var gateway = module.Objects(app, "properties", "template", "containers").Single(c => module.LiteralName(c) == "gateway");
        var dataPort = module.Resolve(app["properties"]?["configuration"]?["ingress"]?["targetPort"])?.ToJsonString();

        var probes = module.Objects(gateway, "probes").Where(p => (string?)p["type"] == type).ToList();

        Assert.True(probes.Count == 1, $"{GatewayBicep}: expected one {type} probe, found {probes.Count}.");
        Assert.Equal(path, (string?)probes[0]["httpGet"]?["path"]);
        var port = module.Resolve(probes[0]["httpGet"]?["port"])?.ToJsonString();
        Assert.True(port == dataPort, $"{GatewayBicep}: the {type} probe calls port {port}, not the data port {dataPort} (the ingress target).");
    }
}
