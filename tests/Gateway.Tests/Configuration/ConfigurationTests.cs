using Gateway.Core;
using Gateway.Core.Plans;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Configuration;

[Collection(UsesAzurite.Name)]
public sealed class ConfigurationTests(Azurite azurite) : GatewayTest(azurite)
{
    [Fact]
    public async Task DefaultCatalog_ShipsFourValidPlans_AndMapsTheArchiveToHigherPlansOnly()
    {
        var settings = ShippedSettings();
        settings["Gateway:Storage:ConnectionString"] = Azurite.ConnectionString;
        settings["Gateway:Storage:TablePrefix"] = TestGateway.NewTablePrefix();
        settings["Gateway:Admin:Token"] = TestGateway.AdminToken;
        await using var app = TestGateway.Build(settings);
        await app.StartAsync();

        var plans = app.Services.GetRequiredService<PlanCatalog>();
        Assert.Equal(["free", "basic", "pro", "enterprise"], plans.All.Select(p => p.Name));
        Assert.False(plans.TryGet("basic", out var basic) && basic.Covers("archive"));
        Assert.True(plans.TryGet("enterprise", out var enterprise) && enterprise.Covers("archive"));
        Assert.Equal(OverQuotaBehaviour.Bill, enterprise.OverQuota);
        await app.StopAsync();
    }

    [Fact]
    public void EnvironmentVariables_OverridePlans()
    {
        var settings = ShippedSettings();
        settings["Gateway:Storage:ConnectionString"] = Azurite.ConnectionString;
        settings["Gateway:Admin:Token"] = TestGateway.AdminToken;
        Environment.SetEnvironmentVariable("GWTEST_Gateway__Plans__basic__MonthlyQuota", "100");
        try
        {
            var configuration = new ConfigurationBuilder()
                .AddInMemoryCollection(settings)
                .AddEnvironmentVariables("GWTEST_")
                .Build();
            var options = configuration.GetSection(GatewayOptions.Section).Get<GatewayOptions>()!;

            Assert.Equal(100, new PlanCatalog(options.Plans).TryGet("basic", out var basic) ? basic.MonthlyQuota : -1);
        }
        finally
        {
            Environment.SetEnvironmentVariable("GWTEST_Gateway__Plans__basic__MonthlyQuota", null);
        }
    }

    [Theory]
    [InlineData("Gateway:Plans:open:RequestsPerSecond", "0", "Gateway:Plans:open:RequestsPerSecond")]
    [InlineData("Gateway:Plans:open:Burst", "0", "Gateway:Plans:open:Burst")]
    [InlineData("Gateway:Plans:open:OverQuota", "Sometimes", "Gateway:Plans:open:OverQuota")]
    [InlineData("Gateway:Plans:open:MonthlyQuota", "-5", "Gateway:Plans:open:MonthlyQuota")]
    [InlineData("Gateway:Plans:open:RouteGroups:1", "delta", "Gateway:Plans:open:RouteGroups:1")]
    [InlineData("ReverseProxy:Routes:beta:Metadata:RouteGroup", "", "ReverseProxy:Routes:beta:Metadata:RouteGroup")]
    [InlineData("Gateway:Metering:FlushInterval", "00:00:00", "Gateway:Metering:FlushInterval")]
    [InlineData("Gateway:Metering:UnhealthyAfter", "00:00:00", "Gateway:Metering:UnhealthyAfter")]
    [InlineData("Gateway:Keys:Environment", "LIVE!", "Gateway:Keys:Environment")]
    [InlineData("Gateway:Admin:Token", "short", "Gateway:Admin:Token")]
    [InlineData("Gateway:Admin:Token", "                    ", "Gateway:Admin:Token")]
    [InlineData("Gateway:Admin:Token", "\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t", "Gateway:Admin:Token")]
    [InlineData("Gateway:Admin:Token", " padded-admin-token-0123456789 ", "Gateway:Admin:Token")]
    [InlineData("Gateway:Admin:Token", "admin-token-with-\u0000-inside", "Gateway:Admin:Token")]
    [InlineData("Gateway:Admin:MaxBodyBytes", "0", "Gateway:Admin:MaxBodyBytes")]
    [InlineData("Gateway:Listen:TrustedProxies:0", "not-an-address", "Gateway:Listen:TrustedProxies")]
    [InlineData("Gateway:Listen:TrustedProxies:0", "10.0.0.0/33", "Gateway:Listen:TrustedProxies")]
    [InlineData("Gateway:Storage:ConnectionString", null, "Gateway:Storage")]
    public async Task InvalidSetting_StopsStartUp_NamingTheSetting(string key, string? value, string named)
    {
        var settings = TestGateway.DefaultSettings(Azurite, Upstream, TestGateway.NewTablePrefix());
        settings[key] = value;


        // Building the proxy pipeline already resolves (and so validates) the options; start would otherwise.
        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => TestGateway.Build(settings).StartAsync());

        Assert.Contains(named, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SamePortForBothPlanes_StopsStartUp()
    {
        var settings = TestGateway.DefaultSettings(Azurite, Upstream, TestGateway.NewTablePrefix());
        settings["Gateway:Listen:DataPort"] = "9000";
        settings["Gateway:Listen:AdminPort"] = "9000";

        var failure = Assert.Throws<OptionsValidationException>(() => TestGateway.Build(settings));

        Assert.Contains("Gateway:Listen:DataPort and AdminPort must differ", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PlanCatalogFile_IsShippedBesideTheHost_AndIsTheFirstSource()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Gateway:Plans:basic:MonthlyQuota"] = "7" })
            .AddPlanCatalogFile()
            .Build();

        Assert.Equal("7", configuration["Gateway:Plans:basic:MonthlyQuota"]);
        Assert.Equal("Bill", configuration["Gateway:Plans:enterprise:OverQuota"]);
    }

    /// <summary>proxy/appsettings.json as shipped, flattened, with the upstream pointed at the test upstream.</summary>
    private Dictionary<string, string?> ShippedSettings()
    {
        var shipped = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(RepositoryRoot.Path, "core", "plans.json"))
            .AddJsonFile(Path.Combine(RepositoryRoot.Path, "proxy", "appsettings.json"))
            .Build()
            .AsEnumerable()
            .Where(p => p.Value is not null && !p.Key.StartsWith("Gateway:Listen", StringComparison.Ordinal))
            .ToDictionary(p => p.Key, p => p.Value);
        shipped["ReverseProxy:Clusters:social:Destinations:upstream:Address"] = Upstream.Address;
        return shipped;
    }
}
