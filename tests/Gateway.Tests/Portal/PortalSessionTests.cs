using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.ControlPlane.Security;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Portal;

/// <summary>
/// The portal's cookie sign-in over plain HTTP, as a browser would use it and as a cross-site page would try to abuse
/// it: the cookie's attributes, every admin endpoint accepting it, the CSRF header required on every change, sign-out.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class PortalSessionTests(Azurite azurite) : SharedGatewayTest(azurite)
{
    private HttpClient Browser(CookieContainer cookies) =>
        new(new HttpClientHandler { CookieContainer = cookies, UseCookies = true, AllowAutoRedirect = false }) { BaseAddress = Gateway.Admin.BaseAddress };

    private static HttpRequestMessage Portal(HttpMethod method, string path, object? body = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Add(PortalSession.RequestHeader, "1");
        return request;
    }

    private async Task<HttpClient> SignedInAsync(CookieContainer cookies, string token)
    {
        var browser = Browser(cookies);
        using var signIn = await browser.SendAsync(Portal(HttpMethod.Post, "admin/v1/session", new { token }));
        Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        return browser;
    }

    private async Task<string> RoleTokenAsync(object body)
    {
        using var response = await Gateway.Admin.PostAsJsonAsync("admin/v1/tokens", body);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    [Fact]
    public async Task SignIn_WithAdminToken_SetsAnHttpOnlyStrictCookieScopedToTheAdminApi()
    {
        using var browser = Browser(new CookieContainer());
        using var response = await browser.SendAsync(Portal(HttpMethod.Post, "admin/v1/session", new { token = TestGateway.AdminToken }));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var setCookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith($"{PortalSession.CookieName}=", setCookie, StringComparison.Ordinal);
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/admin/v1", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secure", setCookie, StringComparison.OrdinalIgnoreCase); // plain HTTP: Secure would lose it
        Assert.DoesNotContain(TestGateway.AdminToken, setCookie, StringComparison.Ordinal);
        var session = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("admin", session.GetProperty("role").GetString());
        Assert.Equal(TestClock.Instance.GetUtcNow().Year, session.GetProperty("now").GetDateTimeOffset().Year);
    }

    [Fact]
    public async Task Cookie_OnEveryKindOfAdminEndpoint_SignsTheCallerIn()
    {
        var customer = await Gateway.CreateCustomerAsync();
        using var browser = await SignedInAsync(new CookieContainer(), TestGateway.AdminToken);

        foreach (var path in new[] { "admin/v1/session", "admin/v1/customers", $"admin/v1/customers/{customer}", $"admin/v1/keys?customerId={customer}", "admin/v1/plans", $"admin/v1/usage?customerId={customer}", "admin/v1/audit", "admin/v1/stats" })
        {
            using var response = await browser.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {response.StatusCode}");
        }

        using var created = await browser.SendAsync(Portal(HttpMethod.Post, "admin/v1/keys", new { customerId = customer, plan = "open" }));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    /// <summary>
    /// What a cross-site page can send with the victim's cookie (a form post, or a fetch without a custom header,
    /// since a custom header needs a CORS preflight this origin never grants) is refused, and changes nothing.
    /// </summary>
    [Fact]
    public async Task CookieChange_WithoutThePortalHeader_IsRefusedAndChangesNothing()
    {
        var customer = await Gateway.CreateCustomerAsync();
        var (keyId, _) = await Gateway.IssueKeyAsync(customer);
        using var browser = await SignedInAsync(new CookieContainer(), TestGateway.AdminToken);

        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["name"] = "Forged", ["email"] = "x@forged.test" });
        using var formPost = await browser.PostAsync("admin/v1/customers", form);
        using var jsonRevoke = await browser.PostAsJsonAsync($"admin/v1/keys/{keyId}/revoke", new { });
        using var signOut = await browser.DeleteAsync("admin/v1/session");

        foreach (var refused in new[] { formPost, jsonRevoke, signOut })
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("urn:gateway:problem:forbidden", problem.GetProperty("type").GetString());
            Assert.Contains(PortalSession.RequestHeader, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        var key = await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/keys/{keyId}");
        Assert.Equal("active", key.GetProperty("status").GetString());
        var page = await Gateway.Admin.GetFromJsonAsync<JsonElement>("admin/v1/customers?search=forged");
        Assert.Equal(0, page.GetProperty("items").GetArrayLength());
        using var stillSignedIn = await browser.GetAsync("admin/v1/session");
        Assert.Equal(HttpStatusCode.OK, stillSignedIn.StatusCode);

        using var withHeader = await browser.SendAsync(Portal(HttpMethod.Post, $"admin/v1/keys/{keyId}/revoke", new { }));
        Assert.Equal(HttpStatusCode.OK, withHeader.StatusCode);
    }

    [Fact]
    public async Task SignIn_WithoutThePortalHeader_IsRefusedWithoutACookie()
    {
        using var browser = Browser(new CookieContainer());
        using var response = await browser.PostAsJsonAsync("admin/v1/session", new { token = TestGateway.AdminToken });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.False(response.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task SignIn_WithAWrongToken_Answers401AndSetsNoCookie()
    {
        using var browser = Browser(new CookieContainer());
        using var wrong = await browser.SendAsync(Portal(HttpMethod.Post, "admin/v1/session", new { token = "not-the-admin-token-at-all" }));
        using var missing = await browser.SendAsync(Portal(HttpMethod.Post, "admin/v1/session", new { }));

        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal("urn:gateway:problem:admin-unauthorized", (await wrong.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString());
        Assert.False(wrong.Headers.Contains("Set-Cookie"));
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        using var after = await browser.GetAsync("admin/v1/customers");
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    [Fact]
    public async Task SignOut_ClearsTheSession()
    {
        var cookies = new CookieContainer();
        using var browser = await SignedInAsync(cookies, TestGateway.AdminToken);

        using var signOut = await browser.SendAsync(Portal(HttpMethod.Delete, "admin/v1/session"));
        using var after = await browser.GetAsync("admin/v1/customers");

        Assert.Equal(HttpStatusCode.NoContent, signOut.StatusCode);
        Assert.Empty(cookies.GetCookies(browser.BaseAddress!));
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    [Fact]
    public async Task DeveloperSession_ForAnotherCustomer_AnswersNotFound()
    {
        var mine = await Gateway.CreateCustomerAsync("Mine Ltd");
        var other = await Gateway.CreateCustomerAsync("Other Ltd");
        using var browser = await SignedInAsync(new CookieContainer(), await RoleTokenAsync(new { role = "developer", customerId = mine }));

        using var own = await browser.GetAsync($"admin/v1/customers/{mine}");
        using var theirs = await browser.GetAsync($"admin/v1/customers/{other}");
        using var theirKeys = await browser.GetAsync($"admin/v1/keys?customerId={other}");
        using var list = await browser.GetAsync("admin/v1/customers");
        var session = await browser.GetFromJsonAsync<JsonElement>("admin/v1/session");

        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, theirs.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, theirKeys.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, list.StatusCode);
        Assert.Equal("developer", session.GetProperty("role").GetString());
        Assert.Equal(mine, session.GetProperty("customerId").GetString());
    }

    [Fact]
    public async Task RoleTokenSession_AfterTheTokensExpiry_SignsNobodyIn()
    {
        var clock = new FakeTimeProvider(TestClock.RunStart);
        await using var gateway = await StartGatewayAsync(
            settings: s => s["Gateway:SignIn:TokenLifetime"] = "00:10:00",
            services: s => s.AddSingleton<TimeProvider>(clock));
        using var issued = await gateway.Admin.PostAsJsonAsync("admin/v1/tokens", new { role = "compliance" });
        var token = (await issued.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = gateway.Admin.BaseAddress };
        using var signIn = await browser.SendAsync(Portal(HttpMethod.Post, "admin/v1/session", new { token }));
        var session = await signIn.Content.ReadFromJsonAsync<JsonElement>();

        using var before = await browser.GetAsync("admin/v1/audit");
        clock.Advance(TimeSpan.FromMinutes(11));
        using var after = await browser.GetAsync("admin/v1/audit");

        Assert.Equal(TestClock.RunStart.AddMinutes(10), session.GetProperty("expiresAt").GetDateTimeOffset());
        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    [Fact]
    public async Task SignIn_AtTraceLevel_NeverLogsTheToken()
    {
        var logs = new CapturedLogs();
        await using var gateway = await StartGatewayAsync(settings: s => s["Logging:LogLevel:Default"] = "Trace", services: s => s.AddSingleton<ILoggerProvider>(logs));
        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = gateway.Admin.BaseAddress };
        var request = Portal(HttpMethod.Post, "admin/v1/session", new { token = TestGateway.AdminToken });
        (await browser.SendAsync(request)).Dispose();
        (await browser.SendAsync(Portal(HttpMethod.Post, "admin/v1/session", new { token = TestGateway.AdminToken + "x" }))).Dispose();
        (await browser.GetAsync("admin/v1/customers")).Dispose();

        Assert.NotEmpty(logs.Entries);
        Assert.DoesNotContain(logs.Entries, e => e.Contains(TestGateway.AdminToken, StringComparison.Ordinal));
    }
}
