using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Admin;

[Collection(UsesAzurite.Name)]
public sealed class AdminApiTests(Azurite azurite) : SharedGatewayTest(azurite)
{
    [Fact]
    public async Task CreateKey_ReturnsPlaintextOnce_AndListingShowsOnlyThePrefix()
    {
        var customer = await Gateway.CreateCustomerAsync();
        using var created = await Gateway.Admin.PostAsJsonAsync("admin/v1/keys", new { customerId = customer, plan = "open" });
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        var key = body.GetProperty("key").GetString()!;

        var listed = await Gateway.Admin.GetStringAsync($"admin/v1/keys?customerId={customer}");

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.StartsWith("gw_test_", key, StringComparison.Ordinal);
        Assert.Equal("open", body.GetProperty("plan").GetString());
        Assert.Equal(customer, body.GetProperty("customerId").GetString());
        Assert.DoesNotContain(key, listed, StringComparison.Ordinal);
        Assert.Contains(body.GetProperty("displayPrefix").GetString()!, listed, StringComparison.Ordinal);
        Assert.DoesNotContain("hash", listed, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Plans_ListTheCatalog()
    {
        var plans = await Gateway.Admin.GetFromJsonAsync<JsonElement>("admin/v1/plans");

        Assert.Equal(["narrow", "open"], plans.EnumerateArray().Select(p => p.GetProperty("name").GetString()).Order());
    }

    [Fact]
    public async Task AdminApi_WithoutOrWithWrongToken_Returns401Problem()
    {
        using var anonymous = new HttpClient { BaseAddress = Gateway.Admin.BaseAddress };
        using var none = await anonymous.GetAsync("admin/v1/plans");
        anonymous.DefaultRequestHeaders.Authorization = new("Bearer", "wrong-token-wrong-token");
        using var wrong = await anonymous.GetAsync("admin/v1/plans");

        await Problems.AssertAsync(none, 401, "urn:gateway:problem:admin-unauthorized");
        await Problems.AssertAsync(wrong, 401, "urn:gateway:problem:admin-unauthorized");
    }

    [Theory]
    [InlineData("{", "body")]
    [InlineData("[]", "body")]
    [InlineData("{\"name\": 5, \"email\": \"a@b.test\"}", "name")]
    [InlineData("{\"name\": \"Acme\"}", "email")]
    [InlineData("{\"name\": \"Acme\", \"email\": \"not-an-email\"}", "email")]
    [InlineData("{\"email\": \"a@b.test\"}", "name")]
    public async Task CreateCustomer_WithBadJson_Returns400NamingTheField(string json, string field)
    {
        using var response = await Gateway.Admin.PostAsync("admin/v1/customers", new StringContent(json, Encoding.UTF8, "application/json"));

        var problem = await Problems.AssertAsync(response, 400, "urn:gateway:problem:invalid-request");
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task CreateCustomer_WithoutJsonContentType_Returns400()
    {
        using var response = await Gateway.Admin.PostAsync("admin/v1/customers", new StringContent("name=x", Encoding.UTF8, "application/x-www-form-urlencoded"));

        await Problems.AssertAsync(response, 400, "urn:gateway:problem:invalid-request");
    }

    [Fact]
    public async Task CreateKey_WithUnknownPlanOrCustomer_IsRefused()
    {
        var customer = await Gateway.CreateCustomerAsync();

        using var badPlan = await Gateway.Admin.PostAsJsonAsync("admin/v1/keys", new { customerId = customer, plan = "platinum" });
        using var noCustomer = await Gateway.Admin.PostAsJsonAsync("admin/v1/keys", new { customerId = "cus_0000000000000000", plan = "open" });
        using var missing = await Gateway.Admin.PostAsJsonAsync("admin/v1/keys", new { plan = "open" });

        var problem = await Problems.AssertAsync(badPlan, 400, "urn:gateway:problem:invalid-request");
        Assert.True(problem.GetProperty("errors").TryGetProperty("plan", out _));
        await Problems.AssertAsync(noCustomer, 404, "urn:gateway:problem:not-found");
        await Problems.AssertAsync(missing, 400, "urn:gateway:problem:invalid-request");
    }

    [Fact]
    public async Task UnknownIds_Return404()
    {
        using var revoke = await Gateway.Admin.PostAsync("admin/v1/keys/NoSuchKey123/revoke", null);
        using var customer = await Gateway.Admin.GetAsync("admin/v1/customers/cus_0000000000000000");
        using var usage = await Gateway.Admin.GetAsync("admin/v1/usage?customerId=cus_0000000000000000");
        using var keys = await Gateway.Admin.GetAsync("admin/v1/keys?customerId=cus_0000000000000000");

        await Problems.AssertAsync(revoke, 404, "urn:gateway:problem:not-found");
        await Problems.AssertAsync(customer, 404, "urn:gateway:problem:not-found");
        await Problems.AssertAsync(usage, 404, "urn:gateway:problem:not-found");
        await Problems.AssertAsync(keys, 404, "urn:gateway:problem:not-found");
    }

    [Theory]
    [InlineData("", "customerId")]
    [InlineData("&from=yesterday", "from")]
    [InlineData("&to=2026-13-45", "to")]
    [InlineData("&granularity=minute", "granularity")]
    [InlineData("&from=2026-11-02&to=2026-11-01", "to")]
    [InlineData("&from=2020-01-01&to=2026-01-01", "to")]
    public async Task Usage_WithBadQuery_Returns400NamingTheField(string query, string field)
    {
        var customer = await Gateway.CreateCustomerAsync();
        var customerPart = query.Length == 0 ? "" : $"customerId={customer}";

        using var response = await Gateway.Admin.GetAsync($"admin/v1/usage?{customerPart}{query}");

        var problem = await Problems.AssertAsync(response, 400, "urn:gateway:problem:invalid-request");
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task Usage_ByDay_SumsTheHours()
    {
        var customer = await Gateway.CreateCustomerAsync();
        var (_, key) = await Gateway.IssueKeyAsync(customer);
        for (var i = 0; i < 3; i++)
        {
            (await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", key))).Dispose();
        }

        var usage = await Gateway.UsageAsync(customer, "&granularity=day");

        var bucket = Assert.Single(usage.GetProperty("buckets").EnumerateArray());
        Assert.Equal(3, bucket.GetProperty("count").GetInt64());
        Assert.Equal(TimeSpan.Zero, bucket.GetProperty("start").GetDateTimeOffset().TimeOfDay);
        Assert.Equal("day", usage.GetProperty("granularity").GetString());
    }
}
