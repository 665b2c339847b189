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
        var listed = (await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/keys?customerId={customer}")).EnumerateArray()
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
        Assert.Empty((await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/keys?customerId={customer}")).EnumerateArray());
    }

    [Fact]
    public async Task IssueKeys_ForAnUnknownCustomer_Returns404()
    {
        using var response = await Gateway.Admin.PostAsJsonAsync("admin/v1/keys/bulk", new { customerId = "cus_0000000000000000", plan = "open", count = 3 });

        await Problems.AssertAsync(response, 404, "urn:gateway:problem:not-found");
    }
}
