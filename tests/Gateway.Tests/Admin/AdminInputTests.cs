using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Gateway.ControlPlane.Contracts;
using Gateway.ControlPlane.Http;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Admin;

/// <summary>
/// Admin input a client gets wrong is a 4xx problem naming the field, decided before any storage access: nothing is
/// read, nothing is written, and no storage error can turn the caller's mistake into a 5xx.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class AdminInputTests(Azurite azurite) : SharedGatewayTest(azurite)
{
    private readonly StorageRequestCounter _storage = new();

    protected override void Services(IServiceCollection services) => services.AddSingleton(_storage.Options());

    [Theory]
    [InlineData("a/b")]
    [InlineData("a'b")]
    [InlineData("cus_nobody")]
    [InlineData("cus_0123456789ABCDEF")]
    [InlineData("cus_0123456789abcdef0")]
    [InlineData("PartitionKey eq 'x'")]
    public async Task ListKeys_WithMalformedCustomerId_Returns400NamingIt_WithoutTouchingStorage(string customerId)
    {
        var before = _storage.All;

        using var response = await Gateway.Admin.GetAsync($"admin/v1/keys?customerId={Uri.EscapeDataString(customerId)}");

        await AssertInvalidAsync(response, "customerId");
        Assert.Equal(before, _storage.All);
    }

    [Fact]
    public async Task IssueKey_WithMalformedCustomerId_Returns400NamingIt_AndWritesNothing()
    {
        var before = _storage.All;

        using var response = await Gateway.Admin.PostAsJsonAsync("admin/v1/keys", new { customerId = "a/b", plan = "open" });

        await AssertInvalidAsync(response, "customerId");
        Assert.Equal(before, _storage.All);
    }

    [Theory]
    [InlineData("admin/v1/customers/a'b")]
    [InlineData("admin/v1/customers/cus_0123456789abcdeZ")]
    [InlineData("admin/v1/customers/%01")]
    [InlineData("admin/v1/keys/a'b/revoke")]
    [InlineData("admin/v1/keys/short/suspend")]
    [InlineData("admin/v1/keys/NoSuchKey12%23/reactivate")]
    public async Task PathId_Malformed_Returns404_WithoutTouchingStorage(string path)
    {
        var before = _storage.All;

        using var response = path.EndsWith("/revoke", StringComparison.Ordinal) || path.EndsWith("/suspend", StringComparison.Ordinal) || path.EndsWith("/reactivate", StringComparison.Ordinal)
            ? await Gateway.Admin.PostAsync(path, null)
            : await Gateway.Admin.GetAsync(path);

        await Problems.AssertAsync(response, 404, "urn:gateway:problem:not-found");
        Assert.Equal(before, _storage.All);
    }

    [Theory]
    [InlineData("from=9999-06-01&to=9999-12-31T23:59:59Z", "from")]
    [InlineData("from=9998-06-01&to=9999-12-31T23:59:59Z", "to")]
    [InlineData("from=9998-12-01&to=9999-01-02", "to")]
    [InlineData("from=0001-01-01&to=0001-02-01", "from")]
    [InlineData("from=1999-12-31&to=2000-01-02", "from")]
    [InlineData("from=2026-01-01&to=2026-01-01", "to")]
    [InlineData("from=2020-01-01&to=2026-01-01", "to")]
    [InlineData("keyId=a/b", "keyId")]
    [InlineData("keyId=tooShort", "keyId")]
    public async Task Usage_WithQueryOutOfRange_Returns400NamingTheField_WithoutTouchingStorage(string query, string field)
    {
        var customer = await Gateway.CreateCustomerAsync();
        var before = _storage.All;

        using var response = await Gateway.Admin.GetAsync($"admin/v1/usage?customerId={customer}&{query}");

        await AssertInvalidAsync(response, field);
        Assert.Equal(before, _storage.All);
    }

    [Fact]
    public async Task Usage_WithMalformedCustomerId_Returns400NamingIt_WithoutTouchingStorage()
    {
        var before = _storage.All;

        using var response = await Gateway.Admin.GetAsync("admin/v1/usage?customerId=a%2Fb");

        await AssertInvalidAsync(response, "customerId");
        Assert.Equal(before, _storage.All);
    }

    [Fact]
    public async Task Usage_AtTheEdgesOfTheAcceptedRange_Answers200()
    {
        var customer = await Gateway.CreateCustomerAsync();

        using var earliest = await Gateway.Admin.GetAsync($"admin/v1/usage?customerId={customer}&from=2000-01-01&to=2000-12-31");
        using var latest = await Gateway.Admin.GetAsync($"admin/v1/usage?customerId={customer}&from=9998-02-01&to=9999-01-01");

        Assert.Equal(HttpStatusCode.OK, earliest.StatusCode);
        Assert.Equal(HttpStatusCode.OK, latest.StatusCode);
    }

    [Theory]
    [InlineData("Evil <a@b.test>")]
    [InlineData("\"Evil\" <a@b.test>")]
    [InlineData("a@b.test (comment)")]
    [InlineData("a@b.test, c@d.test")]
    [InlineData("a\u0000@b.test")]
    [InlineData("a@b.test\r\nBcc: c@d.test")]
    [InlineData("not-an-email")]
    public async Task CreateCustomer_WithAnythingButAPlainAddress_Returns400NamingEmail_AndWritesNothing(string email)
    {
        var before = _storage.All;

        using var response = await Gateway.Admin.PostAsJsonAsync("admin/v1/customers", new { name = "Acme", email });

        await AssertInvalidAsync(response, "email");
        Assert.Equal(before, _storage.All);
    }

    [Fact]
    public async Task CreateCustomer_WithOverlongEmail_Returns400NamingEmail()
    {
        var email = new string('a', 64) + "@" + string.Join('.', Enumerable.Repeat(new string('b', 60), 4)) + ".test";

        using var response = await Gateway.Admin.PostAsJsonAsync("admin/v1/customers", new { name = "Acme", email });

        await AssertInvalidAsync(response, "email");
    }

    [Theory]
    [InlineData("Acme\u0000Data")]
    [InlineData("Acme\nData")]
    [InlineData("Acme\tData")]
    [InlineData("Acme\u007FData")]
    [InlineData("Acme\u0085Data")]
    [InlineData("Acme\u202EataD")]
    [InlineData("Acme\u2028Data")]
    [InlineData("   ")]
    public async Task CreateCustomer_WithControlCharactersInName_Returns400NamingName_AndWritesNothing(string name)
    {
        var before = _storage.All;

        using var response = await Gateway.Admin.PostAsJsonAsync("admin/v1/customers", new { name, email = "dev@acme.test" });

        await AssertInvalidAsync(response, "name");
        Assert.Equal(before, _storage.All);
    }

    [Fact]
    public async Task CreateCustomer_WithNameOverTheLengthLimit_Returns400_AndAtTheLimitIsCreated()
    {
        using var tooLong = await Gateway.Admin.PostAsJsonAsync("admin/v1/customers", new { name = new string('n', 201), email = "dev@acme.test" });
        using var atLimit = await Gateway.Admin.PostAsJsonAsync("admin/v1/customers", new { name = "Ünïcødé " + new string('n', 192), email = "dev@acme.test" });

        await AssertInvalidAsync(tooLong, "name");
        Assert.Equal(HttpStatusCode.Created, atLimit.StatusCode);
    }

    [Fact]
    public async Task CreateCustomer_With30MegabyteBody_Returns413Problem_AndWritesNothing()
    {
        var before = _storage.All;
        var padding = new string('x', 30 * 1024 * 1024);

        using var request = new HttpRequestMessage(HttpMethod.Post, "admin/v1/customers")
        {
            Content = Json($$"""{"name":"Acme","email":"dev@acme.test","padding":"{{padding}}"}"""),
        };

        // As curl does for large bodies: the gateway can answer before the body is sent, and the client reads the answer.
        request.Headers.ExpectContinue = true;
        using var response = await Gateway.Admin.SendAsync(request);

        var problem = await Problems.AssertAsync(response, 413, "urn:gateway:problem:body-too-large");
        Assert.True(problem.GetProperty("errors").TryGetProperty("body", out _), problem.ToString());
        Assert.Equal(before, _storage.All);
    }

    [Fact]
    public async Task CreateCustomer_WithChunkedBodyOverTheLimit_Returns413Problem()
    {
        var body = Encoding.UTF8.GetBytes($$"""{"name":"Acme","email":"dev@acme.test","padding":"{{new string('x', 100 * 1024)}}"}""");
        using var content = new StreamContent(new MemoryStream(body));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "admin/v1/customers") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var response = await Gateway.Admin.SendAsync(request);

        await Problems.AssertAsync(response, 413, "urn:gateway:problem:body-too-large");
    }

    [Fact]
    public async Task AdminBodyLimit_IsConfigurable()
    {
        await using var gateway = await StartGatewayAsync(s => s["Gateway:Admin:MaxBodyBytes"] = "1024");

        // Padded with JSON whitespace: the same two fields, a body just under and just over the configured limit.
        var small = $$"""{"name":"Acme",{{new string(' ', 900)}}"email":"dev@acme.test"}""";
        var large = $$"""{"name":"Acme",{{new string(' ', 1100)}}"email":"dev@acme.test"}""";

        using var accepted = await gateway.Admin.PostAsync("admin/v1/customers", Json(small));
        using var refused = await gateway.Admin.PostAsync("admin/v1/customers", Json(large));

        Assert.Equal(HttpStatusCode.Created, accepted.StatusCode);
        await Problems.AssertAsync(refused, 413, "urn:gateway:problem:body-too-large");
    }

    [Theory]
    [InlineData("admin/v1/customers", """{"name":"Acme","email":"dev@acme.test","nmae":"Acme"}""", "nmae")]
    [InlineData("admin/v1/customers", """{"name":"Acme","email":"dev@acme.test","padding":""}""", "padding")]
    [InlineData("admin/v1/keys", """{"customerId":"cus_0123456789abcdef","plan":"open","owner":"x"}""", "owner")]
    [InlineData("admin/v1/tokens", """{"role":"compliance","expires":"never"}""", "expires")]
    public async Task Body_WithUnknownField_Returns400NamingIt_AndWritesNothing(string path, string json, string field)
    {
        var before = _storage.All;

        using var response = await Gateway.Admin.PostAsync(path, Json(json));

        await AssertInvalidAsync(response, field);
        Assert.Equal(before, _storage.All);
    }

    [Fact]
    public async Task IssueKey_ForUnknownPlan_Returns400_AndWritesNoKeyAndNoAuditEntry()
    {
        var customer = await Gateway.CreateCustomerAsync();
        var writes = _storage.Writes;

        using var response = await Gateway.Admin.PostAsJsonAsync("admin/v1/keys", new { customerId = customer, plan = "platinum" });

        await AssertInvalidAsync(response, "plan");
        Assert.Equal(writes, _storage.Writes);
        Assert.Empty((await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/keys?customerId={customer}")).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task IssueKey_ForUnknownCustomer_Returns404_AndWritesNoKeyAndNoAuditEntry()
    {
        var writes = _storage.Writes;

        using var response = await Gateway.Admin.PostAsJsonAsync("admin/v1/keys", new { customerId = "cus_0123456789abcdef", plan = "open" });

        await Problems.AssertAsync(response, 404, "urn:gateway:problem:not-found");
        Assert.Equal(writes, _storage.Writes);
    }

    [Theory]
    [InlineData("{\"name\": {\"first\": \"Acme\"}, \"email\": \"dev@acme.test\"}", "name")]
    [InlineData("{\"name\": \"Acme\", \"email\": [\"dev@acme.test\"]}", "email")]
    [InlineData("{\"name\": \"Acme\", \"email\": \"dev@acme.test\"", "body")]
    [InlineData("null", "body")]
    [InlineData("", "body")]
    [InlineData("\"just a string\"", "body")]
    public async Task CreateCustomer_WithMalformedJson_Returns400NamingTheField_AndWritesNothing(string json, string field)
    {
        var before = _storage.All;

        using var response = await Gateway.Admin.PostAsync("admin/v1/customers", Json(json));

        await AssertInvalidAsync(response, field);
        Assert.Equal(before, _storage.All);
    }

    [Fact]
    public async Task CreateCustomer_WithDeeplyNestedJson_Returns400()
    {
        var json = "{\"name\":" + new string('[', 5000) + new string(']', 5000) + "}";

        using var response = await Gateway.Admin.PostAsync("admin/v1/customers", Json(json));

        await Problems.AssertAsync(response, 400, "urn:gateway:problem:invalid-request");
    }

    [Fact]
    public async Task CreateCustomer_WithInvalidUtf8_Returns400()
    {
        using var content = new ByteArrayContent([.. "{\"name\":\"A"u8, 0xC3, 0x28, .. "\",\"email\":\"dev@acme.test\"}"u8]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        using var response = await Gateway.Admin.PostAsync("admin/v1/customers", content);

        await Problems.AssertAsync(response, 400, "urn:gateway:problem:invalid-request");
    }

    [Fact]
    public async Task CreateCustomer_WithUnknownCharset_Returns400()
    {
        using var content = new StringContent("{\"name\":\"Acme\",\"email\":\"dev@acme.test\"}", Encoding.UTF8);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/json; charset=klingon");

        using var response = await Gateway.Admin.PostAsync("admin/v1/customers", content);

        await Problems.AssertAsync(response, 400, "urn:gateway:problem:invalid-request");
    }

    /// <summary>
    /// Endpoints that bind their body (the typed handlers the control-plane issue moves to) get the same answers: the
    /// framework's bad-request exceptions become problems naming the field, never the generic 500 or an empty 400.
    /// </summary>
    [Fact]
    public async Task BoundBody_Malformed_IsAProblemNamingTheField()
    {
        var settings = TestGateway.DefaultSettings(Azurite, Upstream, TestGateway.NewTablePrefix());
        await using var app = TestGateway.Build(settings);
        app.MapPost("/admin/v1/bound", (CreateCustomerRequest body) => TypedResults.Ok(body)).WithMetadata(AdminPlaneEndpoint.Instance);
        await app.StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{settings["Gateway:Listen:AdminPort"]}/") };

        using var wrongType = await client.PostAsync("admin/v1/bound", Json("{\"name\": 5}"));
        using var malformed = await client.PostAsync("admin/v1/bound", Json("nonsense"));

        await AssertInvalidAsync(wrongType, "name");
        await AssertInvalidAsync(malformed, "body");
        await app.StopAsync();
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task AssertInvalidAsync(HttpResponseMessage response, string field)
    {
        var problem = await Problems.AssertAsync(response, 400, "urn:gateway:problem:invalid-request");
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
        Assert.Equal(JsonValueKind.Array, problem.GetProperty("errors").GetProperty(field).ValueKind);
    }
}
