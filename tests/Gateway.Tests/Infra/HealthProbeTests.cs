using System.Text.RegularExpressions;
using Gateway.Proxy.Hosting.HealthChecks;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Infra;

/// <summary>The Container Apps probes in infra/ call the gateway's health endpoints, on the data port.</summary>
public sealed partial class HealthProbeTests
{
    [Theory]
    [InlineData("Startup", HealthEndpoints.Live)]
    [InlineData("Liveness", HealthEndpoints.Live)]
    [InlineData("Readiness", HealthEndpoints.Ready)]
    public void GatewayContainerApp_Probe_CallsTheHealthEndpoint(string type, string path)
    {
        var bicep = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "infra", "modules", "gateway.bicep"));

        var probes = Probe().Matches(bicep).Where(m => m.Groups["type"].Value == type).ToList();

        var probe = Assert.Single(probes);
        Assert.Equal(path, probe.Groups["path"].Value);
        Assert.Equal("dataPort", probe.Groups["port"].Value);
    }

    [GeneratedRegex(@"type:\s*'(?<type>\w+)'\s*httpGet:\s*\{\s*path:\s*'(?<path>[^']+)',?\s*port:\s*(?<port>\w+)")]
    private static partial Regex Probe();
}
