using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Proxying;

[Collection(UsesAzurite.Name)]
public sealed class ForwardingHygieneTests(Azurite azurite) : SharedGatewayTest(azurite)
{
    /// <summary>Headers some servers and frameworks act on (client address, URL rewrites, method overrides).</summary>
    public static readonly TheoryData<string> RoutingHeaders =
    [
        "X-Real-IP", "X-Original-URL", "X-Original-Host", "X-Rewrite-URL", "X-HTTP-Method-Override", "X-HTTP-Method",
        "X-Method-Override", "X-Original-For", "X-Original-Proto",
    ];

    /// <summary>The gamma route answers GET and POST only.</summary>
    protected override void Settings(Dictionary<string, string?> settings)
    {
        settings["ReverseProxy:Routes:gamma:Match:Methods:0"] = "GET";
        settings["ReverseProxy:Routes:gamma:Match:Methods:1"] = "POST";
    }

    [Fact]
    public async Task ForwardedRequest_NeverCarriesTheKey_InAnyHeader()
    {
        var customer = await Gateway.CreateCustomerAsync();
        var (_, key) = await Gateway.IssueKeyAsync(customer);
        using var bearer = new HttpRequestMessage(HttpMethod.Get, "alpha/1");
        bearer.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);

        (await Gateway.Data.SendAsync(bearer)).Dispose();
        (await Gateway.Data.SendAsync(TestGateway.Get("beta/2", key))).Dispose();

        Assert.Equal(2, Upstream.Received.Count);
        foreach (var received in Upstream.Received)
        {
            Assert.False(received.Headers.ContainsKey("Authorization"));
            Assert.False(received.Headers.ContainsKey("X-Api-Key"));
            Assert.DoesNotContain(received.Headers.Values.SelectMany(v => v), v => v.Contains(key[..20], StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task ForwardedRequest_CarriesTheVerifiedIdentity_AndNotTheClientsSpoofedCopies()
    {
        var customer = await Gateway.CreateCustomerAsync();
        var (keyId, key) = await Gateway.IssueKeyAsync(customer);
        using var request = TestGateway.Get("beta/2", key);
        request.Headers.TryAddWithoutValidation("X-Gateway-Customer-Id", "cus_somebody_else");
        request.Headers.TryAddWithoutValidation("X-Gateway-Key-Id", "spoofed");
        request.Headers.TryAddWithoutValidation("X-Gateway-Plan", "enterprise");
        request.Headers.TryAddWithoutValidation("X-Gateway-Route-Group", "gamma");
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "203.0.113.7");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Proto", "https");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Host", "billing.example.com");
        request.Headers.TryAddWithoutValidation("Forwarded", "for=203.0.113.7");

        (await Gateway.Data.SendAsync(request)).Dispose();

        var received = Assert.Single(Upstream.Received);
        Assert.Equal([customer], received.Headers["X-Gateway-Customer-Id"]);
        Assert.Equal([keyId], received.Headers["X-Gateway-Key-Id"]);
        Assert.Equal(["open"], received.Headers["X-Gateway-Plan"]);
        Assert.Equal(["beta"], received.Headers["X-Gateway-Route-Group"]);
        Assert.Equal(["127.0.0.1"], received.Headers["X-Forwarded-For"]);
        Assert.Equal(["http"], received.Headers["X-Forwarded-Proto"]);
        Assert.Equal([Gateway.Data.BaseAddress!.Authority], received.Headers["X-Forwarded-Host"]);
        Assert.False(received.Headers.ContainsKey("Forwarded"));
    }

    [Theory]
    [MemberData(nameof(RoutingHeaders))]
    public async Task ForwardedRequest_DropsClientSentRoutingAndMethodOverrideHeaders(string header)
    {
        var (_, key) = await Gateway.IssueKeyAsync(await Gateway.CreateCustomerAsync());
        using var request = TestGateway.Get("alpha/1", key);
        request.Headers.TryAddWithoutValidation(header, header.Contains("Method", StringComparison.Ordinal) ? "DELETE" : "/admin/v1/plans");

        (await Gateway.Data.SendAsync(request)).Dispose();

        var received = Assert.Single(Upstream.Received);
        Assert.False(received.Headers.ContainsKey(header), header);
        Assert.Equal("GET", received.Method);
    }

    [Theory]
    [InlineData("alpha/1?api_key={key}", "/alpha/1")]
    [InlineData("alpha/1?apikey={key}&page=2", "/alpha/1?page=2")]
    [InlineData("alpha/1?q=a%20b&API_KEY={key}&page=2", "/alpha/1?q=a%20b&page=2")]
    [InlineData("alpha/1?Api-Key={key}&api_key=x", "/alpha/1")]
    [InlineData("alpha/1?q=api_key&x=apikey", "/alpha/1?q=api_key&x=apikey")]
    public async Task ForwardedRequest_NeverCarriesAKeyInTheQuery(string target, string forwarded)
    {
        var (_, key) = await Gateway.IssueKeyAsync(await Gateway.CreateCustomerAsync());

        using var response = await Gateway.Data.SendAsync(TestGateway.Get(target.Replace("{key}", key, StringComparison.Ordinal), key));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(Upstream.Received);
        Assert.Equal(forwarded, received.RawTarget);
        Assert.DoesNotContain(key[..20], received.RawTarget, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeyOnlyInTheQuery_Returns401_AndIsNotForwarded()
    {
        var (_, key) = await Gateway.IssueKeyAsync(await Gateway.CreateCustomerAsync());

        using var response = await Gateway.Data.GetAsync($"alpha/1?api_key={key}");

        await Problems.AssertAsync(response, 401, "urn:gateway:problem:missing-api-key");
        Assert.Empty(Upstream.Received);
    }

    [Theory]
    [InlineData("/alpha/a%2Fb", "/alpha/a%2Fb")]
    [InlineData("/alpha/a%2fb/c?x=1", "/alpha/a%2fb/c?x=1")]
    [InlineData("/alpha/%40scope%2Fpackage", "/alpha/@scope%2Fpackage")]
    [InlineData("/alpha/a%252Fb", "/alpha/a%252Fb")]
    [InlineData("/alpha/a%20b", "/alpha/a%20b")]
    public async Task ForwardedRequest_WithEncodedSlash_ReachesTheUpstreamEncodedOnce(string target, string forwarded)
    {
        var (_, key) = await Gateway.IssueKeyAsync(await Gateway.CreateCustomerAsync());

        var response = await RawGetAsync(target, key);

        Assert.StartsWith("HTTP/1.1 200", response, StringComparison.Ordinal);
        Assert.Equal(forwarded, Assert.Single(Upstream.Received).RawTarget);
    }

    [Theory]
    [InlineData("/alpha/..%2Fgamma/1")]
    [InlineData("/alpha/x/..%2F..%2Fgamma/1")]
    [InlineData("/alpha/.%2F..%2Fgamma/1")]
    public async Task EncodedSlash_NextToADotSegment_NeverReachesTheUpstreamAsATraversal(string target)
    {
        var (_, key) = await Gateway.IssueKeyAsync(await Gateway.CreateCustomerAsync(), plan: "narrow");

        await RawGetAsync(target, key);

        if (Upstream.Received.TryPeek(out var received))
        {
            Assert.DoesNotContain("%2F", received.RawTarget, StringComparison.OrdinalIgnoreCase);
            Assert.StartsWith("/alpha/", Uri.UnescapeDataString(received.RawTarget), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task UpstreamServerHeader_IsNotPassedToTheClient()
    {
        var (_, key) = await Gateway.IssueKeyAsync(await Gateway.CreateCustomerAsync());

        using var proxied = await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", key));
        using var own = await Gateway.Data.GetAsync("nothing/here");
        using var admin = await Gateway.Admin.GetAsync("admin/v1/plans");

        Assert.Equal(HttpStatusCode.OK, proxied.StatusCode);
        Assert.Empty(proxied.Headers.Server);
        Assert.Empty(own.Headers.Server);
        Assert.Empty(admin.Headers.Server);
    }

    [Theory]
    [InlineData("DELETE")]
    [InlineData("PUT")]
    [InlineData("PATCH")]
    [InlineData("HEAD")]
    public async Task MethodTheRouteDoesNotAllow_Returns405ProblemWithAllow(string method)
    {
        var (_, key) = await Gateway.IssueKeyAsync(await Gateway.CreateCustomerAsync());
        using var request = TestGateway.Get("gamma/1", key);
        request.Method = new HttpMethod(method);

        using var response = await Gateway.Data.SendAsync(request);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(["GET", "POST"], response.Content.Headers.Allow.Order(StringComparer.Ordinal));
        if (method != "HEAD")
        {
            await Problems.AssertAsync(response, 405, "urn:gateway:problem:method-not-allowed");
        }

        Assert.Empty(Upstream.Received);
    }

    [Fact]
    public async Task MethodNotAllowed_OnTheAdminPort_Returns405_AndTheDataPortDoesNotRevealAdminPaths()
    {
        using var admin = await Gateway.Admin.DeleteAsync("admin/v1/plans");
        using var data = await Gateway.Data.DeleteAsync("admin/v1/plans");
        using var health = await Gateway.Data.PostAsync("healthz", null);

        await Problems.AssertAsync(admin, 405, "urn:gateway:problem:method-not-allowed");
        Assert.Equal(["GET"], admin.Content.Headers.Allow);
        await Problems.AssertAsync(data, 404, "urn:gateway:problem:route-not-found");
        await Problems.AssertAsync(health, 405, "urn:gateway:problem:method-not-allowed");
    }

    [Fact]
    public async Task AllowedMethods_StillReachTheUpstream()
    {
        var (_, key) = await Gateway.IssueKeyAsync(await Gateway.CreateCustomerAsync());
        using var post = TestGateway.Get("gamma/1", key);
        post.Method = HttpMethod.Post;

        using var response = await Gateway.Data.SendAsync(post);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("POST", Assert.Single(Upstream.Received).Method);
    }

    [Fact]
    public async Task GatewayWrittenResponses_CarryNosniff_OnBothPorts()
    {
        var customer = await Gateway.CreateCustomerAsync();
        using var anonymous = new HttpClient { BaseAddress = Gateway.Admin.BaseAddress };

        HttpResponseMessage[] responses =
        [
            await Gateway.Data.GetAsync("nothing/here"),
            await Gateway.Data.GetAsync("alpha/1"),
            await Gateway.Data.DeleteAsync("gamma/1"),
            await Gateway.Data.GetAsync("healthz"),
            await Gateway.Admin.GetAsync("alpha/1"),
            await Gateway.Admin.GetAsync("admin/v1/plans"),
            await Gateway.Admin.GetAsync($"admin/v1/customers/{customer}"),
            await Gateway.Admin.GetAsync("admin/v1/keys"),
            await Gateway.Admin.PostAsync("admin/v1/customers", new StringContent("{", Encoding.UTF8, "application/json")),
            await anonymous.GetAsync("admin/v1/plans"),
        ];

        foreach (var response in responses)
        {
            Assert.True(
                response.Headers.TryGetValues("X-Content-Type-Options", out var values) && values.SequenceEqual(["nosniff"]),
                $"{response.RequestMessage!.Method} {response.RequestMessage.RequestUri} ({(int)response.StatusCode}) has no 'X-Content-Type-Options: nosniff'");
            response.Dispose();
        }
    }

    [Fact]
    public async Task FaultResponses_CarryNosniff()
    {
        var settings = TestGateway.DefaultSettings(Azurite, Upstream, TestGateway.NewTablePrefix());
        await using var app = TestGateway.Build(settings);
        app.MapGet("/_gateway/fault", IResult () => throw new InvalidOperationException("a fault, not the caller's mistake"));
        await app.StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{settings["Gateway:Listen:DataPort"]}/") };

        using var response = await client.GetAsync("_gateway/fault");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(["nosniff"], response.Headers.GetValues("X-Content-Type-Options"));
        await app.StopAsync();
    }

    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7")]
    [InlineData("198.51.100.1, 203.0.113.7", "198.51.100.1, 203.0.113.7")]
    [InlineData("198.51.100.1,203.0.113.7, 127.0.0.9", "198.51.100.1, 203.0.113.7")]
    public async Task ForwardedFor_FromATrustedProxy_KeepsTheClientsAddressChain(string sent, string forwarded)
    {
        await using var gateway = await StartGatewayAsync(s =>
        {
            s["Gateway:Listen:TrustedProxies:0"] = "127.0.0.1";
            s["Gateway:Listen:TrustedProxies:1"] = "127.0.0.8/30";
        });
        var (_, key) = await gateway.IssueKeyAsync(await gateway.CreateCustomerAsync());
        using var request = TestGateway.Get("alpha/1", key);
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", sent);
        request.Headers.TryAddWithoutValidation("X-Forwarded-Proto", "https");

        (await gateway.Data.SendAsync(request)).Dispose();

        var received = Assert.Single(Upstream.Received);
        Assert.Equal(forwarded, string.Join(", ", received.Headers["X-Forwarded-For"]));
        Assert.Equal(["https"], received.Headers["X-Forwarded-Proto"]);
        Assert.False(received.Headers.ContainsKey("X-Original-For"));
    }

    [Fact]
    public async Task ForwardedFor_FromAPeerThatIsNotTrusted_IsReplacedByThePeersAddress()
    {
        await using var gateway = await StartGatewayAsync(s => s["Gateway:Listen:TrustedProxies:0"] = "10.0.0.0/8");
        var (_, key) = await gateway.IssueKeyAsync(await gateway.CreateCustomerAsync());
        using var request = TestGateway.Get("alpha/1", key);
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "203.0.113.7");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Proto", "https");
        request.Headers.TryAddWithoutValidation("X-Original-For", "10.0.0.1:443");

        (await gateway.Data.SendAsync(request)).Dispose();

        var received = Assert.Single(Upstream.Received);
        Assert.Equal(["127.0.0.1"], received.Headers["X-Forwarded-For"]);
        Assert.Equal(["http"], received.Headers["X-Forwarded-Proto"]);
    }

    /// <summary>Sends the request target byte for byte, as HttpClient would normalize some of these.</summary>
    private async Task<string> RawGetAsync(string target, string key)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(Gateway.Data.BaseAddress!.Host, Gateway.Data.BaseAddress.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET {target} HTTP/1.1\r\nHost: gateway.test\r\nX-Api-Key: {key}\r\nConnection: close\r\n\r\n"));
        using var reader = new StreamReader(stream, Encoding.ASCII);
        return await reader.ReadToEndAsync();
    }
}
