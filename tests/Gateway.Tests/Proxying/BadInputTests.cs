using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Proxying;

[Collection(UsesAzurite.Name)]
public sealed class BadInputTests(Azurite azurite) : SharedGatewayTest(azurite)
{
    private string _customer = null!;
    private string _key = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _customer = await Gateway.CreateCustomerAsync();
        _key = (await Gateway.IssueKeyAsync(_customer)).Key;
    }

    [Theory]
    [InlineData("nothing/here")]
    [InlineData("admin/v1/plans")]
    [InlineData("file.json")]
    [InlineData("alphabet/1")]
    public async Task UnknownRoute_OnTheDataPort_Returns404Problem(string path)
    {
        using var response = await Gateway.Data.SendAsync(TestGateway.Get(path, _key));

        await Problems.AssertAsync(response, 404, "urn:gateway:problem:route-not-found");
    }

    [Fact]
    public async Task ProxyRoute_OnTheAdminPort_Returns404Problem()
    {
        using var response = await Gateway.Admin.SendAsync(TestGateway.Get("alpha/1", _key));

        await Problems.AssertAsync(response, 404, "urn:gateway:problem:route-not-found");
        Assert.Empty(Upstream.Received);
    }

    [Fact]
    public async Task Health_AnswersOnBothPorts_WithoutAKey()
    {
        using var data = await Gateway.Data.GetAsync("healthz");
        using var admin = await new HttpClient { BaseAddress = Gateway.Admin.BaseAddress }.GetAsync("healthz");

        Assert.Equal(HttpStatusCode.OK, data.StatusCode);
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
    }

    [Fact]
    public async Task DuplicateKeyHeaders_Return401Malformed()
    {
        using var request = TestGateway.Get("alpha/1", _key);
        request.Headers.TryAddWithoutValidation("X-Api-Key", _key);

        using var response = await Gateway.Data.SendAsync(request);

        await Problems.AssertAsync(response, 401, "urn:gateway:problem:malformed-api-key");
    }

    [Theory]
    [InlineData("Basic dXNlcjpwYXNz")]
    [InlineData("Bearer")]
    [InlineData("Bearer    ")]
    [InlineData("bearer a b c")]
    [InlineData("Token gw_test_")]
    public async Task OddAuthorizationHeaders_Return401(string authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "alpha/1");
        request.Headers.TryAddWithoutValidation("Authorization", authorization);

        using var response = await Gateway.Data.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task HugeKeyHeader_Returns401_NotAServerError()
    {
        using var response = await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", new string('k', 20_000)));

        await Problems.AssertAsync(response, 401, "urn:gateway:problem:malformed-api-key");
    }

    [Fact]
    public async Task OversizedHeaders_AreRefusedWith431_BeforeTheGatewayRuns()
    {
        using var request = TestGateway.Get("alpha/1", _key);
        request.Headers.TryAddWithoutValidation("X-Padding", new string('p', 64 * 1024));

        using var response = await Gateway.Data.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode);
        await AssertNeitherForwardedNorCountedAsync();
    }

    /// <summary>
    /// Kestrel refuses what is not HTTP; what is ours is that the request never reaches the gateway's step: a valid
    /// key inside a malformed request is neither forwarded nor counted (a caller is billed for nothing it did not get).
    /// </summary>
    [Fact]
    public async Task MalformedHttp_WithAValidKey_IsRefusedWith400_NeitherForwardedNorCounted()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(Gateway.Data.BaseAddress!.Host, Gateway.Data.BaseAddress.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /alpha/1 HTTP/1.1\r\nHost: x\r\nX-Api-Key: {_key}\r\n\tfolded\r\nBad Header Line\r\n\r\n"));
        var buffer = new byte[1024];
        var read = await stream.ReadAsync(buffer);

        Assert.StartsWith("HTTP/1.1 400", Encoding.ASCII.GetString(buffer, 0, read), StringComparison.Ordinal);
        await AssertNeitherForwardedNorCountedAsync();
    }

    private async Task AssertNeitherForwardedNorCountedAsync()
    {
        // The control: the same key in a well-formed request is forwarded and counted, once.
        using (var valid = await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", _key)))
        {
            Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
        }

        Assert.Single(Upstream.Received);
        var usage = await Gateway.UsageAsync(_customer);
        Assert.Equal(1, usage.GetProperty("total").GetInt64());
        Assert.Equal(0, usage.GetProperty("rejected").GetInt64());
    }
}
