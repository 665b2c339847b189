using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
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

    /// <summary>
    /// The real process, configured as operators configure it: the command line over environment variables over
    /// appsettings.json over plans.json, and the admin token from the <c>GATEWAY_ADMIN_TOKEN</c> alias.
    /// </summary>
    [Fact]
    public async Task GatewayProcess_ReadsCommandLineOverEnvironmentOverFiles_AndTheAdminTokenAlias()
    {
        const string token = "alias-admin-token-0123456789";
        await using var gateway = await GatewayProcess.StartAsync(
            StorageAndUpstream(new()
            {
                ["GATEWAY_ADMIN_TOKEN"] = token,
                ["Gateway__Plans__basic__MonthlyQuota"] = "111",
                ["Gateway__Plans__pro__MonthlyQuota"] = "333",
                ["Gateway__Listen__Address"] = "127.0.0.1",
            }),
            ["--Gateway:Plans:basic:MonthlyQuota=222"]);

        var plans = await PlansAsync(gateway, token);
        var key = await IssueKeyAsync(gateway, token, "basic");
        using var call = await gateway.Data.SendAsync(TestGateway.Get("v1/posts/42", key));

        Assert.Equal(222, plans["basic"]);
        Assert.Equal(333, plans["pro"]);
        Assert.Equal(ShippedQuota("free"), plans["free"]);
        Assert.StartsWith("gw_live_", key, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, call.StatusCode);
        Assert.Equal("/v1/posts/42", Assert.Single(Upstream.Received).Path);
    }

    [Fact]
    public async Task GatewayProcess_WithTokenSettingAndAlias_UsesTheSetting()
    {
        const string setting = "setting-admin-token-0123456789";
        const string alias = "alias-admin-token-0123456789";
        await using var gateway = await GatewayProcess.StartAsync(
            StorageAndUpstream(new() { ["Gateway__Admin__Token"] = setting, ["GATEWAY_ADMIN_TOKEN"] = alias, ["Gateway__Listen__Address"] = "127.0.0.1" }),
            []);

        using var withSetting = await gateway.Admin.SendAsync(GatewayProcess.AsAdmin(HttpMethod.Get, "admin/v1/plans", setting));
        using var withAlias = await gateway.Admin.SendAsync(GatewayProcess.AsAdmin(HttpMethod.Get, "admin/v1/plans", alias));

        Assert.Equal(HttpStatusCode.OK, withSetting.StatusCode);
        await Problems.AssertAsync(withAlias, 401, "urn:gateway:problem:admin-unauthorized");
    }

    /// <summary>Development: appsettings.Development.json over appsettings.json, and an admin token generated and printed.</summary>
    [Fact]
    public async Task GatewayProcess_InDevelopment_UsesTheDevelopmentDefaults_AndPrintsAGeneratedAdminToken()
    {
        await using var gateway = await GatewayProcess.StartAsync(StorageAndUpstream(new() { ["DOTNET_ENVIRONMENT"] = "Development" }), []);

        const string printed = "Admin API token for this run (set GATEWAY_ADMIN_TOKEN to choose your own): ";
        var lines = gateway.Output.Where(l => l.StartsWith(printed, StringComparison.Ordinal)).ToList();
        Assert.True(lines.Count == 1, "Expected one generated admin token printed, got:\n" + string.Join("\n", gateway.Output));
        var line = lines[0];
        var token = line[printed.Length..];
        var key = await IssueKeyAsync(gateway, token, "free");

        Assert.StartsWith("adm_", token, StringComparison.Ordinal);
        Assert.StartsWith("gw_test_", key, StringComparison.Ordinal);
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
    [InlineData("Gateway:Keys:VerifyTimeout", "00:00:00", "Gateway:Keys:VerifyTimeout")]
    [InlineData("Gateway:Keys:UnknownKeyReadsPerSecondPerNetwork", "0", "Gateway:Keys:UnknownKeyReadsPerSecondPerNetwork")]
    [InlineData("Gateway:Keys:UnknownKeyReadsPerSecond", "0", "Gateway:Keys:UnknownKeyReadsPerSecond")]
    [InlineData("Gateway:Keys:MaxStaleness", "00:00:30", "Gateway:Keys:MaxStaleness")]
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

    /// <summary>Environment for a gateway process: the run's Azurite, a table prefix of its own, the test upstream.</summary>
    private Dictionary<string, string> StorageAndUpstream(Dictionary<string, string> environment)
    {
        environment["Gateway__Storage__ConnectionString"] = Azurite.ConnectionString;
        environment["Gateway__Storage__TablePrefix"] = TestGateway.NewTablePrefix();
        environment["ReverseProxy__Clusters__social__Destinations__upstream__Address"] = Upstream.Address;
        return environment;
    }

    private static async Task<Dictionary<string, long>> PlansAsync(GatewayProcess gateway, string token)
    {
        using var response = await gateway.Admin.SendAsync(GatewayProcess.AsAdmin(HttpMethod.Get, "admin/v1/plans", token));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var plans = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return plans.EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("monthlyQuota").GetInt64());
    }

    private static async Task<string> IssueKeyAsync(GatewayProcess gateway, string token, string plan)
    {
        using var customer = await gateway.Admin.SendAsync(GatewayProcess.AsAdmin(HttpMethod.Post, "admin/v1/customers", token, JsonContent.Create(new { name = "Acme", email = "dev@acme.test" })));
        var customerId = JsonDocument.Parse(await customer.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();
        using var key = await gateway.Admin.SendAsync(GatewayProcess.AsAdmin(HttpMethod.Post, "admin/v1/keys", token, JsonContent.Create(new { customerId, plan })));
        Assert.Equal(HttpStatusCode.Created, key.StatusCode);
        return JsonDocument.Parse(await key.Content.ReadAsStringAsync()).RootElement.GetProperty("key").GetString()!;
    }

    private static long ShippedQuota(string plan) =>
        long.Parse(new ConfigurationBuilder().AddJsonFile(Path.Combine(RepositoryRoot.Path, "core", "plans.json")).Build()[$"Gateway:Plans:{plan}:MonthlyQuota"]!, System.Globalization.CultureInfo.InvariantCulture);

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
