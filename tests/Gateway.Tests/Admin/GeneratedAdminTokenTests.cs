using System.Net;
using System.Net.Http.Headers;
using Gateway.Core;
using Gateway.Proxy;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Admin;

[Collection(UsesAzurite.Name)]
public sealed class GeneratedAdminTokenTests(Azurite azurite) : GatewayTest(azurite)
{
    [Fact]
    public async Task DevelopmentWithoutToken_GeneratesOneTokenForEveryOptionsView_AndItOpensTheAdminApi()
    {
        var settings = TestGateway.DefaultSettings(Azurite, Upstream, TestGateway.NewTablePrefix());
        settings.Remove("Gateway:Admin:Token");
        settings["Gateway:Listen:Address"] = "127.0.0.1";
        var ports = FreePort.Take(2);
        settings["Gateway:Listen:DataPort"] = ports[0].ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Gateway:Listen:AdminPort"] = ports[1].ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using var app = GatewayApp.Build(["--environment", "Development"], builder =>
        {
            builder.Configuration.Sources.Clear();
            builder.Configuration.AddInMemoryCollection(settings);
            builder.Logging.ClearProviders();
        });
        await app.StartAsync();

        var fromOptions = app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.Admin.Token;
        var fromMonitor = app.Services.GetRequiredService<IOptionsMonitor<GatewayOptions>>().CurrentValue.Admin.Token;
        using var admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{settings["Gateway:Listen:AdminPort"]}/") };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", fromMonitor);
        using var plans = await admin.GetAsync("admin/v1/plans");

        Assert.StartsWith("adm_", fromOptions, StringComparison.Ordinal);
        Assert.Equal(fromOptions, fromMonitor);
        Assert.Equal(HttpStatusCode.OK, plans.StatusCode);
        await app.StopAsync();
    }
}

[Collection(UsesAzurite.Name)]
public sealed class AdminChallengeLoggingTests(Azurite azurite) : GatewayTest(azurite)
{
    [Fact]
    public async Task UnauthenticatedAdminCall_LogsNothingBelowWarning()
    {
        var logs = new CapturedLogs();
        await using var gateway = await StartGatewayAsync(
            settings: s => s["Logging:LogLevel:Default"] = "Trace",
            services: s => s.AddSingleton<ILoggerProvider>(logs));
        using var anonymous = new HttpClient { BaseAddress = gateway.Admin.BaseAddress };

        using var response = await anonymous.GetAsync("admin/v1/plans");
        using var wrong = new HttpRequestMessage(HttpMethod.Get, "admin/v1/plans");
        wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not-the-admin-token-at-all");
        using var wrongResponse = await anonymous.SendAsync(wrong);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongResponse.StatusCode);
        Assert.Contains(logs.Entries, l => l.StartsWith("Debug", StringComparison.Ordinal)); // the capture does see low levels
        Assert.DoesNotContain(logs.Entries, l => l.Contains("challenged", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Entries, l => l.Contains("not-the-admin-token-at-all", StringComparison.Ordinal));
    }
}
