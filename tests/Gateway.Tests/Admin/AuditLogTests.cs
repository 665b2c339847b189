using System.Net.Http.Json;
using System.Text.Json;
using Gateway.ControlPlane.Audit;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Admin;

/// <summary>Every mutation, every token issued and every failed sign-in is in the audit log, with its actor, and no secret.</summary>
[Collection(UsesAzurite.Name)]
public sealed class AuditLogTests(Azurite azurite) : SharedGatewayTest(azurite)
{
    [Fact]
    public async Task Mutations_TokensAndFailedSignIns_AreRecorded_WithoutSecrets()
    {
        var customer = await Gateway.CreateCustomerAsync("Audited Ltd");
        var (keyId, key) = await Gateway.IssueKeyAsync(customer);
        (await Gateway.Admin.PostAsync($"admin/v1/keys/{keyId}/suspend", null)).EnsureSuccessStatusCode();
        (await Gateway.Admin.PostAsync($"admin/v1/keys/{keyId}/reactivate", null)).EnsureSuccessStatusCode();
        using var tokenResponse = await Gateway.Admin.PostAsJsonAsync("admin/v1/tokens", new { role = "developer", customerId = customer, subject = "alice@acme.test" });
        var token = (await tokenResponse.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
        using var developer = new HttpClient { BaseAddress = Gateway.Admin.BaseAddress };
        developer.DefaultRequestHeaders.Authorization = new("Bearer", token);
        (await developer.PostAsync($"admin/v1/keys/{keyId}/revoke", null)).EnsureSuccessStatusCode();
        using var intruder = new HttpClient { BaseAddress = Gateway.Admin.BaseAddress };
        intruder.DefaultRequestHeaders.Authorization = new("Bearer", "guessed-admin-token-123");
        (await intruder.GetAsync("admin/v1/plans")).Dispose();

        var log = await Gateway.Admin.GetStringAsync("admin/v1/audit?limit=1000");
        var items = JsonDocument.Parse(log).RootElement.GetProperty("items").EnumerateArray().ToList();
        var mine = items.Where(i => i.GetProperty("target").GetString() is { } t && (t == customer || t == keyId || t == "alice@acme.test")).ToList();

        Assert.Equal(
            ["customer.created", "key.issued", "key.suspended", "key.reactivated", "token.issued", "key.revoked"],
            mine.Select(i => i.GetProperty("action").GetString()));
        Assert.All(mine.Take(5), i => Assert.Equal(("admin-token", "admin"), (i.GetProperty("actor").GetString(), i.GetProperty("role").GetString())));
        Assert.Equal(("alice@acme.test", "developer"), (mine[5].GetProperty("actor").GetString(), mine[5].GetProperty("role").GetString()));
        Assert.All(mine, i => Assert.Equal("127.0.0.1", i.GetProperty("source").GetString()));
        var failed = Assert.Single(items, i => i.GetProperty("action").GetString() == "sign-in.failed");
        Assert.Equal("/admin/v1/plans", failed.GetProperty("target").GetString());
        Assert.DoesNotContain(key, log, StringComparison.Ordinal);
        Assert.DoesNotContain(token, log, StringComparison.Ordinal);
        Assert.DoesNotContain("guessed-admin-token-123", log, StringComparison.Ordinal);
        Assert.DoesNotContain(TestGateway.AdminToken, log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Audit_FiltersByActionTargetAndActor()
    {
        var customer = await Gateway.CreateCustomerAsync();
        var (keyId, _) = await Gateway.IssueKeyAsync(customer);
        (await Gateway.Admin.PostAsync($"admin/v1/keys/{keyId}/revoke", null)).EnsureSuccessStatusCode();

        var byTarget = await ItemsAsync($"target={keyId}");
        var byAction = await ItemsAsync($"action=key.revoked&target={keyId}");
        var byOtherActor = await ItemsAsync($"actor=someone-else&target={keyId}");

        Assert.Equal(["key.issued", "key.revoked"], byTarget.Select(i => i.GetProperty("action").GetString()));
        Assert.Equal("key.revoked", Assert.Single(byAction).GetProperty("action").GetString());
        Assert.Empty(byOtherActor);
    }

    [Fact]
    public async Task Audit_PagedWithFilters_AnswersEveryMatchOnce_InOrder_AcrossPages()
    {
        var customer = await Gateway.CreateCustomerAsync();
        var other = await Gateway.CreateCustomerAsync();
        for (var i = 0; i < 7; i++)
        {
            (await Gateway.Admin.PatchAsJsonAsync($"admin/v1/customers/{customer}", new { name = $"Name {i}" })).EnsureSuccessStatusCode();
            (await Gateway.Admin.PatchAsJsonAsync($"admin/v1/customers/{other}", new { name = $"Other {i}" })).EnsureSuccessStatusCode();
        }

        var pages = new List<JsonElement>();
        string? token = null;
        do
        {
            var page = await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/audit?target={customer}&action=customer.updated&limit=3{(token is null ? "" : $"&continuationToken={Uri.EscapeDataString(token)}")}");
            pages.Add(page);
            token = page.GetProperty("continuationToken").ValueKind == JsonValueKind.Null ? null : page.GetProperty("continuationToken").GetString();
        }
        while (token is not null && pages.Count < 10);

        Assert.Equal([3, 3, 1], pages.Select(p => p.GetProperty("items").GetArrayLength()));
        var summaries = pages.SelectMany(p => p.GetProperty("items").EnumerateArray()).Select(i => i.GetProperty("summary").GetString()).ToList();
        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"name 'Name {i}'"), summaries);
    }

    [Fact]
    public async Task Audit_WithMoreEntriesThanTheDefaultPage_AcrossTwoDays_PagesThroughAllOfThem()
    {
        var audit = Gateway.App.Services.GetRequiredService<AuditLog>();
        var target = "seeded-" + Guid.NewGuid().ToString("N")[..8];
        var start = new DateTimeOffset(2030, 1, 10, 23, 0, 0, TimeSpan.Zero);
        for (var i = 0; i < AuditLog.DefaultPageSize + 5; i++)
        {
            await audit.AppendAsync(new AuditEntry(start.AddMinutes(i), "admin-token", "admin", "customer.updated", target, "127.0.0.1", $"entry {i:D3}"), default);
        }

        const string Period = "from=2030-01-10&to=2030-01-12";
        var first = await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/audit?{Period}&target={target}");
        var token = first.GetProperty("continuationToken").GetString()!;
        var second = await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/audit?{Period}&target={target}&continuationToken={Uri.EscapeDataString(token)}");
        var all = await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/audit?{Period}&target={target}&limit={AuditLog.MaxPageSize}");

        Assert.Equal(AuditLog.DefaultPageSize, first.GetProperty("items").GetArrayLength());
        Assert.Equal(5, second.GetProperty("items").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, second.GetProperty("continuationToken").ValueKind);
        Assert.Equal(JsonValueKind.Null, all.GetProperty("continuationToken").ValueKind);
        var paged = first.GetProperty("items").EnumerateArray().Concat(second.GetProperty("items").EnumerateArray()).Select(i => i.GetProperty("summary").GetString());
        Assert.Equal(Enumerable.Range(0, AuditLog.DefaultPageSize + 5).Select(i => $"entry {i:D3}"), paged);
        Assert.Equal(paged, all.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("summary").GetString()));
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1001", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("continuationToken=cus_0000000000000000", "continuationToken")]
    [InlineData("continuationToken=0638000000000000000-ZZZZZZZZ", "continuationToken")]
    public async Task Audit_WithBadPaging_Returns400NamingTheField(string query, string field)
    {
        using var response = await Gateway.Admin.GetAsync($"admin/v1/audit?{query}");

        var problem = await Problems.AssertAsync(response, 400, "urn:gateway:problem:invalid-request");
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Theory]
    [InlineData("from=yesterday", "from")]
    [InlineData("from=2030-01-01&to=2030-03-01", "to")]
    [InlineData("from=2030-01-02&to=2030-01-01", "to")]
    public async Task Audit_WithBadPeriod_Returns400NamingTheField(string query, string field)
    {
        using var response = await Gateway.Admin.GetAsync($"admin/v1/audit?{query}");

        var problem = await Problems.AssertAsync(response, 400, "urn:gateway:problem:invalid-request");
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    private async Task<List<JsonElement>> ItemsAsync(string query) =>
        (await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/audit?{query}")).GetProperty("items").EnumerateArray().ToList();
}
