using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Gateway.Core.Keys;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Keys;

[Collection(UsesAzurite.Name)]
public sealed class KeyAuthenticationTests(Azurite azurite) : SharedGatewayTest(azurite)
{
    private readonly StorageRequestCounter _storage = new();
    private string _customer = null!;

    protected override void Services(IServiceCollection services) => services.AddSingleton(_storage.Options());

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _customer = await Gateway.CreateCustomerAsync();
    }

    [Fact]
    public async Task Request_WithKeyInXApiKey_IsForwarded()
    {
        var (_, key) = await Gateway.IssueKeyAsync(_customer);

        using var response = await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", key));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Request_WithKeyAsBearerToken_IsForwarded()
    {
        var (_, key) = await Gateway.IssueKeyAsync(_customer);
        using var request = new HttpRequestMessage(HttpMethod.Get, "alpha/1");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);

        using var response = await Gateway.Data.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Request_WithoutKey_Returns401MissingKey()
    {
        using var response = await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", key: null));

        await Problems.AssertAsync(response, 401, "urn:gateway:problem:missing-api-key");
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Empty(Upstream.Received);
    }

    [Fact]
    public async Task Request_WithMistypedKey_Returns401Malformed_WithoutReadingStorage()
    {
        var (_, key) = await Gateway.IssueKeyAsync(_customer);
        var mistyped = key[..^1] + (key[^1] == 'x' ? 'y' : 'x');
        var readsBefore = _storage.All;

        foreach (var bad in new[] { mistyped, key + "x", "gw_test_short", "not-a-key", key.Replace("gw_test_", "gw_live_", StringComparison.Ordinal) })
        {
            using var response = await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", bad));
            await Problems.AssertAsync(response, 401, "urn:gateway:problem:malformed-api-key");
        }

        Assert.Equal(readsBefore, _storage.All);
        Assert.Empty(Upstream.Received);
    }

    [Fact]
    public async Task Request_WithWellFormedUnknownKey_Returns401Invalid_AndIsRememberedWithoutFurtherReads()
    {
        var forged = new ApiKeyFormat("test").Generate().Key;

        using (var first = await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", forged)))
        {
            await Problems.AssertAsync(first, 401, "urn:gateway:problem:invalid-api-key");
        }

        var readsAfterFirst = _storage.All;
        for (var i = 0; i < 5; i++)
        {
            using var again = await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", forged));
            await Problems.AssertAsync(again, 401, "urn:gateway:problem:invalid-api-key");
        }

        Assert.Equal(readsAfterFirst, _storage.All);
    }

    [Fact]
    public async Task Request_WithWrongSecretForKnownKeyId_Returns401Invalid()
    {
        var (id, key) = await Gateway.IssueKeyAsync(_customer);
        using (await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", key)))
        {
        }

        var format = new ApiKeyFormat("test");
        var impostor = format.Compose(id, new string('A', ApiKeyFormat.SecretLength));
        Assert.True(format.IsWellFormed(impostor));

        using var response = await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", impostor));

        await Problems.AssertAsync(response, 401, "urn:gateway:problem:invalid-api-key");
        Assert.StartsWith($"gw_test_{id}_", impostor, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CachedKey_IsVerifiedWithoutStorage()
    {
        var (_, key) = await Gateway.IssueKeyAsync(_customer);
        using (await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", key)))
        {
        }

        var reads = _storage.Reads;
        for (var i = 0; i < 20; i++)
        {
            using var response = await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", key));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(reads, _storage.Reads);
    }

    [Fact]
    public async Task RevokedKey_IsRefusedOnTheNextRequest()
    {
        var (id, key) = await Gateway.IssueKeyAsync(_customer);
        using (var before = await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", key)))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        using (var revoke = await Gateway.Admin.PostAsync($"admin/v1/keys/{id}/revoke", null))
        {
            Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
            Assert.Equal("revoked", JsonDocument.Parse(await revoke.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString());
        }

        using var after = await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", key));
        await Problems.AssertAsync(after, 401, "urn:gateway:problem:revoked-api-key");
    }

    [Fact]
    public async Task SuspendedKey_Returns402_AndReactivatedKeyWorksAgain()
    {
        var (id, key) = await Gateway.IssueKeyAsync(_customer);
        (await Gateway.Admin.PostAsync($"admin/v1/keys/{id}/suspend", null)).EnsureSuccessStatusCode();

        using (var suspended = await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", key)))
        {
            await Problems.AssertAsync(suspended, 402, "urn:gateway:problem:key-suspended");
        }

        (await Gateway.Admin.PostAsync($"admin/v1/keys/{id}/reactivate", null)).EnsureSuccessStatusCode();
        using var reactivated = await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", key));
        Assert.Equal(HttpStatusCode.OK, reactivated.StatusCode);
    }

    [Fact]
    public async Task RouteOutsideThePlan_Returns403_AndIsCountedAsRejection()
    {
        var (_, key) = await Gateway.IssueKeyAsync(_customer, plan: "narrow");

        using var allowed = await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", key));
        using var refused = await Gateway.Data.SendAsync(TestGateway.Get("gamma/1", key));

        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        await Problems.AssertAsync(refused, 403, "urn:gateway:problem:route-not-in-plan");
        Assert.DoesNotContain(Upstream.Received, r => r.Path.StartsWith("/gamma", StringComparison.Ordinal));
        var usage = await Gateway.UsageAsync(_customer);
        Assert.Equal(1, usage.GetProperty("rejected").GetInt64());
    }

    [Fact]
    public async Task DifferentKeysInBothHeaders_Returns401Malformed()
    {
        var (_, key) = await Gateway.IssueKeyAsync(_customer);
        var (_, other) = await Gateway.IssueKeyAsync(_customer);
        using var request = TestGateway.Get("alpha/1", key);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", other);

        using var response = await Gateway.Data.SendAsync(request);

        await Problems.AssertAsync(response, 401, "urn:gateway:problem:malformed-api-key");
    }
}
