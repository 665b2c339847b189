using System.Diagnostics;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Configuration;

/// <summary>The real gateway process, started as an operator starts it, with configuration mistakes.</summary>
[Collection(UsesAzurite.Name)]
public sealed class StartUpErrorTests(Azurite azurite) : GatewayTest(azurite)
{
    [Theory]
    [InlineData("ReverseProxy__Routes__beta__Metadata__RouteGroup", "", "ReverseProxy:Routes:beta:Metadata:RouteGroup must name the route's group")]
    [InlineData("ReverseProxy__Routes__beta__Metadata__RouteGroup", "unsold", "ReverseProxy:Routes:beta:Metadata:RouteGroup 'unsold' is licensed by no plan")]
    public async Task RouteGroupMistake_StopsTheProcess_WithOneLineNamingTheRoute(string variable, string value, string expected)
    {
        var (exitCode, stdout, stderr) = await RunGatewayAsync(new() { [variable] = value });

        var errorLines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, exitCode);
        Assert.Contains(errorLines, l => l.StartsWith("Configuration error: ", StringComparison.Ordinal) && l.Contains(expected, StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", stderr + stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("6xx", "Gateway:Plans:basic:Billable:0 '6xx' must be one of 1xx, 2xx, 3xx, 4xx, 429, 5xx")]
    [InlineData("gateway-error", "Gateway:Plans:basic:Billable:0 'gateway-error' must be one of")]
    public async Task PlanBillable_NotAnUpstreamOutcome_StopsTheProcess_WithOneLineNamingTheSetting(string value, string expected)
    {
        var (exitCode, stdout, stderr) = await RunGatewayAsync(new() { ["Gateway__Plans__basic__Billable__0"] = value });

        Assert.Equal(2, exitCode);
        Assert.Contains(stderr.Split('\n'), l => l.StartsWith("Configuration error: ", StringComparison.Ordinal) && l.Contains(expected, StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", stderr + stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("api.example.com")]
    [InlineData("ftp://api.example.com")]
    [InlineData("https://api.example.com/?x=1")]
    public async Task PortalDataPlaneUrl_NotAnHttpUrl_StopsTheProcess_WithOneLineNamingTheSetting(string value)
    {
        var (exitCode, stdout, stderr) = await RunGatewayAsync(new() { ["Gateway__Portal__DataPlaneUrl"] = value });

        Assert.Equal(2, exitCode);
        Assert.Contains(stderr.Split('\n'), l => l.StartsWith("Configuration error: ", StringComparison.Ordinal) && l.Contains("Gateway:Portal:DataPlaneUrl", StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", stderr + stdout, StringComparison.Ordinal);
    }

    private async Task<(int ExitCode, string Stdout, string Stderr)> RunGatewayAsync(Dictionary<string, string> overrides)
    {
        var dll = Path.Combine(RepositoryRoot.Path, "proxy", "bin", "Release", "net10.0", "Gateway.Proxy.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { dll },
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var settings = TestGateway.DefaultSettings(Azurite, Upstream, TestGateway.NewTablePrefix());
        settings["Gateway:Listen:Address"] = "127.0.0.1";
        var ports = FreePort.Take(2);
        settings["Gateway:Listen:DataPort"] = ports[0].ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Gateway:Listen:AdminPort"] = ports[1].ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var (key, setting) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = setting;
        }

        foreach (var (key, setting) in overrides)
        {
            start.Environment[key] = setting;
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("The gateway did not stop on a configuration error within 60 s.");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
