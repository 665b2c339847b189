using System.Net;
using Gateway.Core.Keys;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Keys;

[Collection(UsesAzurite.Name)]
public sealed class KeyCacheRefreshTests(Azurite azurite) : GatewayTest(azurite)
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 15, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task CachedKey_ChangedElsewhere_IsReReadAfterCacheRefresh()
    {
        await using var gateway = await StartGatewayAsync(
            settings: s => s["Gateway:Keys:CacheRefresh"] = "00:01:00",
            services: s => s.AddSingleton<TimeProvider>(_time));
        var customer = await gateway.CreateCustomerAsync();
        var (id, key) = await gateway.IssueKeyAsync(customer);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, key));

        // Another instance suspends the key: storage changes, but no key change reaches this process.
        await gateway.Services.GetRequiredService<IApiKeyStore>().SetStatusAsync(id, ApiKeyStatus.Suspended, _time.GetUtcNow(), CancellationToken.None);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, key));

        _time.Advance(TimeSpan.FromMinutes(1));
        var status = HttpStatusCode.OK;
        for (var attempt = 0; attempt < 50 && status == HttpStatusCode.OK; attempt++)
        {
            status = await StatusAsync(gateway, key);
            await Task.Delay(100);
        }

        Assert.Equal(HttpStatusCode.PaymentRequired, status);
    }

    private static async Task<HttpStatusCode> StatusAsync(TestGateway gateway, string key)
    {
        using var response = await gateway.Data.SendAsync(TestGateway.Get("alpha/1", key));
        return response.StatusCode;
    }
}
