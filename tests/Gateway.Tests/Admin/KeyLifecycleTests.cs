using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Admin;

/// <summary>
/// Keys are read, renamed, moved to another plan and rotated with an overlap in which both keys work, through the real
/// gateway: a plan change and a rotation's expiry reach the data plane's cache. Developers issue within their plan's
/// maximum of live keys.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class KeyLifecycleTests(Azurite azurite) : SharedGatewayTest(azurite)
{
    [Fact]
    public async Task RenameKey_ChangesItsName_AndIsAudited_AndABadNameChangesNothing()
    {
        var customer = await Gateway.CreateCustomerAsync();
        using var issued = await Gateway.Admin.PostAsJsonAsync("admin/v1/keys", new { customerId = customer, plan = "open", name = "ci" });
        var keyId = (await issued.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        using var renamed = await Gateway.Admin.PatchAsJsonAsync($"admin/v1/keys/{keyId}", new { name = "production" });
        using var refused = await Gateway.Admin.PatchAsJsonAsync($"admin/v1/keys/{keyId}", new { name = "bad\u202Ename" });
        var stored = await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/keys/{keyId}");
        var audit = (await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/audit?target={keyId}")).GetProperty("items").EnumerateArray();

        Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
        var problem = await Problems.AssertAsync(refused, 400, "urn:gateway:problem:invalid-request");
        Assert.True(problem.GetProperty("errors").TryGetProperty("name", out _));
        Assert.Equal("production", stored.GetProperty("name").GetString());
        Assert.False(stored.TryGetProperty("key", out var key) && key.ValueKind != JsonValueKind.Null);
        Assert.Equal(["key.issued", "key.renamed"], audit.Select(e => e.GetProperty("action").GetString()));
    }

    [Fact]
    public async Task GetKey_UnknownOrMalformed_Returns404()
    {
        using var unknown = await Gateway.Admin.GetAsync("admin/v1/keys/NoSuchKey123");
        using var malformed = await Gateway.Admin.GetAsync("admin/v1/keys/a'b");

        await Problems.AssertAsync(unknown, 404, "urn:gateway:problem:not-found");
        await Problems.AssertAsync(malformed, 404, "urn:gateway:problem:not-found");
    }

    [Fact]
    public async Task ChangeKeyPlan_ReachesTheGatewayCache_AtOnce()
    {
        var customer = await Gateway.CreateCustomerAsync();
        var (keyId, key) = await Gateway.IssueKeyAsync(customer, "open");
        using var before = await Gateway.Data.SendAsync(TestGateway.Get("beta/x", key));

        using var changed = await Gateway.Admin.PutAsJsonAsync($"admin/v1/keys/{keyId}/plan", new { plan = "narrow" });
        using var after = await Gateway.Data.SendAsync(TestGateway.Get("beta/x", key));
        using var stillCovered = await Gateway.Data.SendAsync(TestGateway.Get("alpha/x", key));
        using var unknownPlan = await Gateway.Admin.PutAsJsonAsync($"admin/v1/keys/{keyId}/plan", new { plan = "platinum" });

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal("narrow", (await changed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("plan").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, after.StatusCode);
        Assert.Equal(HttpStatusCode.OK, stillCovered.StatusCode);
        await Problems.AssertAsync(unknownPlan, 400, "urn:gateway:problem:invalid-request");
        Assert.Equal("narrow", (await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/keys/{keyId}")).GetProperty("plan").GetString());
    }

    [Fact]
    public async Task ChangeKeyPlan_OfARevokedKey_Returns409()
    {
        var (keyId, _) = await Gateway.IssueKeyAsync(await Gateway.CreateCustomerAsync());
        (await Gateway.Admin.PostAsync($"admin/v1/keys/{keyId}/revoke", null)).EnsureSuccessStatusCode();

        using var response = await Gateway.Admin.PutAsJsonAsync($"admin/v1/keys/{keyId}/plan", new { plan = "narrow" });

        await Problems.AssertAsync(response, 409, "urn:gateway:problem:conflict");
    }

    [Fact]
    public async Task RotateKey_BothKeysWorkDuringTheOverlap_AndAfterItTheOldOneIsRefused()
    {
        var clock = new FakeTimeProvider(TestClock.RunStart);
        await using var gateway = await StartGatewayAsync(services: s => s.AddSingleton<TimeProvider>(clock));
        var customer = await gateway.CreateCustomerAsync();
        var (oldId, oldKey) = await gateway.IssueKeyAsync(customer);
        (await gateway.Data.SendAsync(TestGateway.Get("alpha/x", oldKey))).EnsureSuccessStatusCode();

        using var rotated = await gateway.Admin.PostAsync($"admin/v1/keys/{oldId}/rotate", Json("""{"overlap":"PT1H"}"""));
        var body = await rotated.Content.ReadFromJsonAsync<JsonElement>();
        var newKey = body.GetProperty("new").GetProperty("key").GetString()!;
        using var oldDuring = await gateway.Data.SendAsync(TestGateway.Get("alpha/x", oldKey));
        using var newDuring = await gateway.Data.SendAsync(TestGateway.Get("alpha/x", newKey));
        clock.Advance(TimeSpan.FromMinutes(61));
        using var oldAfter = await gateway.Data.SendAsync(TestGateway.Get("alpha/x", oldKey));
        using var newAfter = await gateway.Data.SendAsync(TestGateway.Get("alpha/x", newKey));
        using var again = await gateway.Admin.PostAsync($"admin/v1/keys/{oldId}/rotate", null);

        Assert.Equal(HttpStatusCode.Created, rotated.StatusCode);
        Assert.Equal(TestClock.RunStart.AddHours(1), body.GetProperty("old").GetProperty("expiresAt").GetDateTimeOffset());
        Assert.Equal((customer, "open"), (body.GetProperty("new").GetProperty("customerId").GetString(), body.GetProperty("new").GetProperty("plan").GetString()));
        Assert.Equal(HttpStatusCode.OK, oldDuring.StatusCode);
        Assert.Equal(HttpStatusCode.OK, newDuring.StatusCode);
        await Problems.AssertAsync(oldAfter, 401, "urn:gateway:problem:revoked-api-key");
        Assert.Equal(HttpStatusCode.OK, newAfter.StatusCode);
        await Problems.AssertAsync(again, 409, "urn:gateway:problem:conflict");
    }

    [Theory]
    [InlineData("""{"overlap":7200}""", 201)]
    [InlineData("""{"overlap":"P8D"}""", 400)]
    [InlineData("""{"overlap":700000}""", 400)]
    [InlineData("""{"overlap":"an hour"}""", 400)]
    [InlineData("""{"overlap":-5}""", 400)]
    [InlineData("""{"overlap":"PT1H","keep":true}""", 400)]
    public async Task RotateKey_Overlap_IsSecondsOrAnIsoDuration_UpToTheConfiguredMaximum(string json, int status)
    {
        var (keyId, _) = await Gateway.IssueKeyAsync(await Gateway.CreateCustomerAsync());

        using var response = await Gateway.Admin.PostAsync($"admin/v1/keys/{keyId}/rotate", Json(json));

        Assert.Equal(status, (int)response.StatusCode);
        if (status == 400)
        {
            await Problems.AssertAsync(response, 400, "urn:gateway:problem:invalid-request");
            Assert.Null((await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/keys/{keyId}")).GetProperty("expiresAt").GetString());
        }
        else
        {
            var left = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("old").GetProperty("expiresAt").GetDateTimeOffset() - TestClock.Instance.GetUtcNow();
            Assert.InRange(left, TimeSpan.FromMinutes(119), TimeSpan.FromHours(2));
        }
    }

    [Fact]
    public async Task IssueKey_ByADeveloper_StopsAtThePlansMaximum_AndAnAdminIsNotBound()
    {
        await using var gateway = await StartGatewayAsync(s => s["Gateway:Plans:open:MaxKeys"] = "2");
        var customer = await gateway.CreateCustomerAsync();
        using var tokenResponse = await gateway.Admin.PostAsJsonAsync("admin/v1/tokens", new { role = "developer", customerId = customer });
        using var developer = new HttpClient { BaseAddress = gateway.Admin.BaseAddress };
        developer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await tokenResponse.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString());

        using var first = await developer.PostAsJsonAsync("admin/v1/keys", new { customerId = customer, plan = "open" });
        using var second = await developer.PostAsJsonAsync("admin/v1/keys", new { customerId = customer, plan = "open" });
        using var third = await developer.PostAsJsonAsync("admin/v1/keys", new { customerId = customer, plan = "open" });
        using var otherPlan = await developer.PostAsJsonAsync("admin/v1/keys", new { customerId = customer, plan = "narrow" });
        using var byAdmin = await gateway.Admin.PostAsJsonAsync("admin/v1/keys", new { customerId = customer, plan = "open" });
        var firstId = (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        (await developer.PostAsync($"admin/v1/keys/{firstId}/revoke", null)).EnsureSuccessStatusCode();
        using var afterRevoking = await developer.PostAsJsonAsync("admin/v1/keys", new { customerId = customer, plan = "open" });

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        await Problems.AssertAsync(third, 409, "urn:gateway:problem:conflict");
        Assert.Equal(HttpStatusCode.Created, otherPlan.StatusCode);
        Assert.Equal(HttpStatusCode.Created, byAdmin.StatusCode);
        await Problems.AssertAsync(afterRevoking, 409, "urn:gateway:problem:conflict");
        Assert.Equal(4, (await gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/keys?customerId={customer}")).GetProperty("items").GetArrayLength());
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
