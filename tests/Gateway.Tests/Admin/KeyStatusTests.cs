using System.Text.Json;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Admin;

[Collection(UsesAzurite.Name)]
public sealed class KeyStatusTests(Azurite azurite) : SharedGatewayTest(azurite)
{
    [Theory]
    [InlineData("reactivate")]
    [InlineData("suspend")]
    public async Task RevokedKey_ChangedAgain_Returns409Conflict_AndStaysRevoked(string action)
    {
        var customer = await Gateway.CreateCustomerAsync();
        var (id, key) = await Gateway.IssueKeyAsync(customer);
        (await Gateway.Admin.PostAsync($"admin/v1/keys/{id}/revoke", null)).EnsureSuccessStatusCode();

        using var change = await Gateway.Admin.PostAsync($"admin/v1/keys/{id}/{action}", null);

        await Problems.AssertAsync(change, 409, "urn:gateway:problem:conflict");
        var listed = JsonDocument.Parse(await Gateway.Admin.GetStringAsync($"admin/v1/keys?customerId={customer}")).RootElement;
        Assert.Equal("revoked", Assert.Single(listed.GetProperty("items").EnumerateArray()).GetProperty("status").GetString());
        using var call = await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", key));
        await Problems.AssertAsync(call, 401, "urn:gateway:problem:revoked-api-key");
        Assert.Empty(Upstream.Received);
    }
}
