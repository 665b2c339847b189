using System.Net;
using System.Security.Cryptography;
using Gateway.Core.Keys;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Keys;

/// <summary>
/// A key id is public (the display prefix, also sent upstream) and so is the checksum: anyone can make a well-formed
/// key with someone else's id. Such a forgery is refused, and must never make the real key look unknown.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class KeyLockoutTests(Azurite azurite) : GatewayTest(azurite)
{
    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private static readonly ApiKeyFormat Format = new("test");

    [Fact]
    public async Task ForgedKeyWithTheVictimsKeyId_DoesNotLockOutTheRealKey()
    {
        await using var gateway = await StartGatewayAsync();
        var customer = await gateway.CreateCustomerAsync();
        var (id, key) = await gateway.IssueKeyAsync(customer);

        // The real key is not in memory yet (as after a restart, on a new replica, or after a suspend/reactivate).
        await AssertForgeryRefusedAsync(gateway, id);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, key));

        // And again once a key change has dropped it from memory.
        (await gateway.Admin.PostAsync($"admin/v1/keys/{id}/suspend", null)).EnsureSuccessStatusCode();
        (await gateway.Admin.PostAsync($"admin/v1/keys/{id}/reactivate", null)).EnsureSuccessStatusCode();
        await AssertForgeryRefusedAsync(gateway, id);
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(gateway, key));
    }

    private static async Task AssertForgeryRefusedAsync(TestGateway gateway, string victimKeyId)
    {
        var forged = Format.Compose(victimKeyId, RandomNumberGenerator.GetString(Base62, ApiKeyFormat.SecretLength));
        Assert.True(Format.IsWellFormed(forged));
        for (var i = 0; i < 3; i++)
        {
            using var response = await gateway.Data.SendAsync(TestGateway.Get("alpha/1", forged));
            await Problems.AssertAsync(response, 401, "urn:gateway:problem:invalid-api-key");
        }
    }

    private static async Task<HttpStatusCode> StatusAsync(TestGateway gateway, string key)
    {
        using var response = await gateway.Data.SendAsync(TestGateway.Get("alpha/1", key));
        return response.StatusCode;
    }
}
