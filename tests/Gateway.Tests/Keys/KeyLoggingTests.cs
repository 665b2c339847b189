using System.Net.Http.Headers;
using Gateway.Core.Keys;
using Gateway.Proxy.Metering;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Keys;

[Collection(UsesAzurite.Name)]
public sealed class KeyLoggingTests(Azurite azurite) : GatewayTest(azurite)
{
    /// <summary>
    /// Everything the gateway and the frameworks under it log at the most verbose level, while a key is issued, used
    /// in both headers, mistyped, revoked, used again and its usage flushed: neither the key, nor its secret part,
    /// nor a mistyped copy, nor the admin token appears in any entry.
    /// </summary>
    [Fact]
    public async Task Logs_AtTraceLevel_NeverContainAKeyOrTheAdminToken()
    {
        var logs = new CapturedLogs();
        await using var gateway = await StartGatewayAsync(
            settings: s => s["Logging:LogLevel:Default"] = "Trace",
            services: s => s.AddSingleton<ILoggerProvider>(logs));
        var customer = await gateway.CreateCustomerAsync();
        var (id, key) = await gateway.IssueKeyAsync(customer);
        var mistyped = key[..^1] + (key[^1] == 'x' ? 'y' : 'x');
        var forged = new ApiKeyFormat("test").Compose(id, new string('A', ApiKeyFormat.SecretLength));

        (await gateway.Data.SendAsync(TestGateway.Get("alpha/1", key))).Dispose();
        using (var bearer = new HttpRequestMessage(HttpMethod.Get, "beta/1"))
        {
            bearer.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            (await gateway.Data.SendAsync(bearer)).Dispose();
        }

        (await gateway.Data.SendAsync(TestGateway.Get("_gateway/usage", key))).Dispose();
        (await gateway.Data.SendAsync(TestGateway.Get("alpha/1", mistyped))).Dispose();
        (await gateway.Data.SendAsync(TestGateway.Get("alpha/1", forged))).Dispose();
        using (var wrongAdmin = new HttpClient { BaseAddress = gateway.Admin.BaseAddress })
        {
            wrongAdmin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            (await wrongAdmin.GetAsync("admin/v1/plans")).Dispose();
        }

        (await gateway.Admin.PostAsync($"admin/v1/keys/{id}/revoke", null)).Dispose();
        (await gateway.Data.SendAsync(TestGateway.Get("alpha/1", key))).Dispose();
        await gateway.Services.GetRequiredService<UsageFlushService>().FlushAsync(CancellationToken.None);
        await gateway.StopAsync();

        // The control: request-level entries were captured (their paths are there), so an absence below means something.
        var entries = logs.Entries.ToList();
        Assert.Contains(entries, e => e.StartsWith("Trace", StringComparison.Ordinal) || e.StartsWith("Debug", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Contains("/alpha/1", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Contains("/admin/v1/keys", StringComparison.Ordinal));
        var secret = key[$"gw_test_{id}_".Length..];
        foreach (var (name, value) in new[] { ("key", key), ("secret", secret), ("mistyped key", mistyped[^20..]), ("forged key", forged), ("admin token", TestGateway.AdminToken) })
        {
            var leaks = entries.Where(e => e.Contains(value, StringComparison.Ordinal)).ToList();
            Assert.True(leaks.Count == 0, $"The {name} appears in {leaks.Count} log entries, e.g.:\n{leaks.FirstOrDefault()}");
        }
    }
}
