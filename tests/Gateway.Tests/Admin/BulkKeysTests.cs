using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Admin;

/// <summary>
/// <c>POST /admin/v1/keys/bulk</c>: many keys of one customer and plan in one request, each as good as one issued
/// alone; bad input is refused whole and writes nothing.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class BulkKeysTests(Azurite azurite) : SharedGatewayTest(azurite)
{
    [Fact]
    public async Task IssueKeys_Of250_StoresEveryKey_EachWorksAtTheGateway_AndIsAuditedOnce()
    {
        var customer = await Gateway.CreateCustomerAsync("Bulk Buyer Ltd");

        using var response = await Gateway.Admin.PostAsJsonAsync("admin/v1/keys/bulk", new { customerId = customer, plan = "open", count = 250, name = "fleet" });
        var issued = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items").EnumerateArray().ToList();
        var listed = (await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/keys?customerId={customer}&limit=1000")).GetProperty("items").EnumerateArray()
            .Select(k => k.GetProperty("id").GetString()).ToHashSet();
        var sample = new[] { issued[0], issued[124], issued[249] };
        var statuses = new List<HttpStatusCode>();
        foreach (var key in sample)
        {
            using var call = await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", key.GetProperty("key").GetString()));
            statuses.Add(call.StatusCode);
        }

        var audited = (await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/audit?target={customer}")).GetProperty("items").EnumerateArray()
            .Select(e => (e.GetProperty("action").GetString(), e.GetProperty("summary").GetString())).ToList();

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(250, issued.Count);
        Assert.Equal(250, issued.Select(k => k.GetProperty("key").GetString()).Distinct().Count());
        Assert.All(issued, k => Assert.Equal(("open", "active", "fleet", customer), (k.GetProperty("plan").GetString(), k.GetProperty("status").GetString(), k.GetProperty("name").GetString(), k.GetProperty("customerId").GetString())));
        Assert.Equal(issued.Select(k => k.GetProperty("id").GetString()).ToHashSet(), listed);
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Contains(("keys.issued", "250 keys, plan 'open'"), audited);
    }

    [Theory]
    [InlineData("""{"plan":"open","count":0}""", "count")]
    [InlineData("""{"plan":"open","count":1001}""", "count")]
    [InlineData("""{"plan":"open"}""", "count")]
    [InlineData("""{"plan":"open","count":"many"}""", "count")]
    [InlineData("""{"plan":"gold-plated","count":5}""", "plan")]
    [InlineData("""{"plan":"open","count":5,"name":"bad\u0007"}""", "name")]
    [InlineData("""{"plan":"open","count":5,"colour":"red"}""", "colour")]
    public async Task IssueKeys_WithBadInput_Returns400NamingTheField_AndIssuesNothing(string json, string field)
    {
        var customer = await Gateway.CreateCustomerAsync("Careful Ltd");
        var body = json.Replace("{", $$"""{"customerId":"{{customer}}",""", StringComparison.Ordinal);

        using var response = await Gateway.Admin.PostAsync("admin/v1/keys/bulk", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        var problem = await Problems.AssertAsync(response, 400, "urn:gateway:problem:invalid-request");
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
        Assert.Empty((await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/keys?customerId={customer}&limit=1000")).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task ListKeys_OfMoreKeysThanAPage_PagesByContinuationToken_InIdOrder_EachKeyOnce()
    {
        var customer = await Gateway.CreateCustomerAsync("Many Keys Ltd");
        using var issued = await Gateway.Admin.PostAsJsonAsync("admin/v1/keys/bulk", new { customerId = customer, plan = "open", count = 250 });
        var issuedIds = (await issued.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items").EnumerateArray().Select(k => k.GetProperty("id").GetString()!).ToList();

        var pages = new List<List<string>>();
        string? token = null;
        do
        {
            var page = await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/keys?customerId={customer}&limit=100{(token is null ? "" : $"&continuationToken={token}")}");
            pages.Add([.. page.GetProperty("items").EnumerateArray().Select(k => k.GetProperty("id").GetString()!)]);
            token = page.GetProperty("continuationToken").GetString();
        }
        while (token is not null && pages.Count < 10);
        var byDefault = await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/keys?customerId={customer}");

        Assert.Equal([100, 100, 50], pages.Select(p => p.Count));
        Assert.Equal(issuedIds.Order(StringComparer.Ordinal), pages.SelectMany(p => p));
        Assert.Equal(100, byDefault.GetProperty("items").GetArrayLength());
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1001", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("continuationToken=not-a-key-id", "continuationToken")]
    public async Task ListKeys_WithBadPaging_Returns400NamingTheField(string paging, string field)
    {
        var customer = await Gateway.CreateCustomerAsync("Paging Ltd");

        using var response = await Gateway.Admin.GetAsync($"admin/v1/keys?customerId={customer}&{paging}");

        var problem = await Problems.AssertAsync(response, 400, "urn:gateway:problem:invalid-request");
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task IssueKeys_ForAnUnknownCustomer_Returns404()
    {
        using var response = await Gateway.Admin.PostAsJsonAsync("admin/v1/keys/bulk", new { customerId = "cus_0000000000000000", plan = "open", count = 3 });

        await Problems.AssertAsync(response, 404, "urn:gateway:problem:not-found");
    }
}
