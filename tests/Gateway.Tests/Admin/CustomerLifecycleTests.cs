using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Admin;

/// <summary>Customers are changed, searched, paged and deleted; a deleted customer gets no keys, and a refused change changes nothing.</summary>
[Collection(UsesAzurite.Name)]
public sealed class CustomerLifecycleTests(Azurite azurite) : SharedGatewayTest(azurite)
{
    [Fact]
    public async Task UpdateCustomer_ChangesOnlyTheFieldsSent_AndIsAudited()
    {
        var customer = await Gateway.CreateCustomerAsync("Old Name Ltd");

        using var renamed = await Gateway.Admin.PatchAsJsonAsync($"admin/v1/customers/{customer}", new { name = "New Name Ltd" });
        var stored = await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/customers/{customer}");
        var audited = await AuditAsync(customer);

        Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
        Assert.Equal(("New Name Ltd", "dev@acme.test"), (stored.GetProperty("name").GetString(), stored.GetProperty("email").GetString()));
        Assert.Equal(["customer.created", "customer.updated"], audited.Select(e => e.GetProperty("action").GetString()));
        Assert.Equal("name 'New Name Ltd'", audited[1].GetProperty("summary").GetString());
    }

    [Theory]
    [InlineData("""{"email":"not-an-email"}""", "email")]
    [InlineData("""{"name":"New","email":"x"}""", "email")]
    [InlineData("""{"name":"   "}""", "name")]
    [InlineData("""{"name":"New\u0007"}""", "name")]
    [InlineData("""{}""", "body")]
    [InlineData("""{"name":"New","nickname":"N"}""", "nickname")]
    public async Task UpdateCustomer_WithBadInput_Returns400NamingTheField_AndChangesNothing(string json, string field)
    {
        var customer = await Gateway.CreateCustomerAsync("Unchanged Ltd");

        using var response = await Gateway.Admin.PatchAsync($"admin/v1/customers/{customer}", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        var problem = await Problems.AssertAsync(response, 400, "urn:gateway:problem:invalid-request");
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
        Assert.Equal("Unchanged Ltd", (await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/customers/{customer}")).GetProperty("name").GetString());
        Assert.Equal(["customer.created"], (await AuditAsync(customer)).Select(e => e.GetProperty("action").GetString()));
    }

    [Fact]
    public async Task UpdateCustomer_Unknown_Returns404()
    {
        using var response = await Gateway.Admin.PatchAsJsonAsync("admin/v1/customers/cus_0000000000000000", new { name = "Ghost" });

        await Problems.AssertAsync(response, 404, "urn:gateway:problem:not-found");
        Assert.Null(await Gateway.App.Services.GetRequiredService<Gateway.Core.Customers.ICustomerStore>().FindAsync("cus_0000000000000000", CancellationToken.None));
    }

    [Fact]
    public async Task ListCustomers_SearchesNameAndEmail_AndPagesByContinuationToken()
    {
        var tag = Guid.NewGuid().ToString("N")[..10];
        var byName = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            byName.Add(await Gateway.CreateCustomerAsync($"Paged {tag.ToUpperInvariant()} {i}"));
        }

        using var byEmailResponse = await Gateway.Admin.PostAsJsonAsync("admin/v1/customers", new { name = "Mail Only", email = $"ops@{tag}.test" });
        var byEmail = (await byEmailResponse.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        var first = await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/customers?search={tag}&limit=3");
        var token = first.GetProperty("continuationToken").GetString();
        var second = await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/customers?search={tag}&limit=3&continuationToken={token}");
        var emailOnly = await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/customers?search=ops@{tag}");

        var paged = Ids(first).Concat(Ids(second)).ToList();
        Assert.Equal(3, Ids(first).Count);
        Assert.NotNull(token);
        Assert.Equal(JsonValueKind.Null, second.GetProperty("continuationToken").ValueKind);
        Assert.Equal(byName.Append(byEmail).Order(StringComparer.Ordinal), paged);
        Assert.Equal([byEmail], Ids(emailOnly));
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=201", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("continuationToken=PartitionKey%20gt%20''", "continuationToken")]
    [InlineData("search=%07", "search")]
    public async Task ListCustomers_WithBadQuery_Returns400NamingIt(string query, string field)
    {
        using var response = await Gateway.Admin.GetAsync($"admin/v1/customers?{query}");

        var problem = await Problems.AssertAsync(response, 400, "urn:gateway:problem:invalid-request");
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task DeleteCustomer_WithLiveKeys_Returns409_AndAfterRevokingThem_Deletes()
    {
        var customer = await Gateway.CreateCustomerAsync();
        var (active, _) = await Gateway.IssueKeyAsync(customer);
        var (suspended, _) = await Gateway.IssueKeyAsync(customer);
        (await Gateway.Admin.PostAsync($"admin/v1/keys/{suspended}/suspend", null)).EnsureSuccessStatusCode();

        using var refused = await Gateway.Admin.DeleteAsync($"admin/v1/customers/{customer}");
        using var stillThere = await Gateway.Admin.GetAsync($"admin/v1/customers/{customer}");
        (await Gateway.Admin.PostAsync($"admin/v1/keys/{active}/revoke", null)).EnsureSuccessStatusCode();
        using var stillRefused = await Gateway.Admin.DeleteAsync($"admin/v1/customers/{customer}");
        (await Gateway.Admin.PostAsync($"admin/v1/keys/{suspended}/revoke", null)).EnsureSuccessStatusCode();
        using var deleted = await Gateway.Admin.DeleteAsync($"admin/v1/customers/{customer}");
        using var gone = await Gateway.Admin.GetAsync($"admin/v1/customers/{customer}");
        using var again = await Gateway.Admin.DeleteAsync($"admin/v1/customers/{customer}");

        await Problems.AssertAsync(refused, 409, "urn:gateway:problem:conflict");
        Assert.Equal(HttpStatusCode.OK, stillThere.StatusCode);
        await Problems.AssertAsync(stillRefused, 409, "urn:gateway:problem:conflict");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await Problems.AssertAsync(gone, 404, "urn:gateway:problem:not-found");
        await Problems.AssertAsync(again, 404, "urn:gateway:problem:not-found");
        Assert.Equal(1, (await AuditAsync(customer)).Count(e => e.GetProperty("action").GetString() == "customer.deleted"));
    }

    [Fact]
    public async Task IssueKey_ForDeletedCustomer_Returns404_AndWritesNoKey()
    {
        var customer = await Gateway.CreateCustomerAsync();
        (await Gateway.Admin.DeleteAsync($"admin/v1/customers/{customer}")).EnsureSuccessStatusCode();

        using var issued = await Gateway.Admin.PostAsJsonAsync("admin/v1/keys", new { customerId = customer, plan = "open" });

        await Problems.AssertAsync(issued, 404, "urn:gateway:problem:not-found");
        var store = Gateway.App.Services.GetRequiredService<Gateway.Core.Keys.IApiKeyStore>();
        Assert.Empty(await store.ListByCustomerAsync(customer, CancellationToken.None));
        Assert.DoesNotContain(await AuditAsync(null), e => e.GetProperty("action").GetString() == "key.issued" && e.GetProperty("summary").GetString()!.Contains(customer, StringComparison.Ordinal));
    }

    private static List<string> Ids(JsonElement page) =>
        page.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("id").GetString()!).ToList();

    private async Task<List<JsonElement>> AuditAsync(string? target) =>
        (await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/audit{(target is null ? "" : $"?target={target}")}")).GetProperty("items").EnumerateArray().ToList();
}
