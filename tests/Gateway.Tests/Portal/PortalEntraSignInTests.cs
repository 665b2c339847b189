using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.ControlPlane.Security;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Gateway.Tests.Portal;

/// <summary>
/// "Sign in with Microsoft" in a real browser: MSAL.js against <see cref="TestEntraAuthority"/> (authorization code with
/// PKCE by redirect), the gateway validating the RS256 access tokens against the authority's metadata and keys.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class PortalEntraSignInTests(Azurite azurite) : PortalBrowserTest(azurite)
{
    private TestEntraAuthority _authority = null!;

    public override async Task InitializeAsync()
    {
        _authority = await TestEntraAuthority.StartAsync();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _authority.DisposeAsync();
    }

    protected override void Settings(Dictionary<string, string?> settings)
    {
        settings["Gateway:SignIn:Entra:Authority"] = _authority.Authority;
        settings["Gateway:SignIn:Entra:Audience"] = TestEntraAuthority.Audience;
        settings["Gateway:Portal:Entra:ClientId"] = TestEntraAuthority.ClientId;
        settings["Gateway:Portal:Entra:Scope"] = TestEntraAuthority.Scope;
    }

    /// <summary>The gateway fetches the authority's metadata and keys over HTTPS: trust its self-signed certificate.</summary>
    protected override void Services(IServiceCollection services) =>
        services.Configure<JwtBearerOptions>(SignInSchemes.Entra, o => o.BackchannelHttpHandler = _authority.TrustingHandler());

    [Fact]
    public async Task EntraAdmin_SignsInWithMicrosoft_SeesTheCustomersPage_WithTheTokenOnlyInSessionStorage()
    {
        var customer = await Gateway.CreateCustomerAsync("Entra Visible Ltd");
        _authority.NextUser = new("admin-oid-1", "Ada Admin", "admin");
        var page = await NewPageAsync(ignoreHttpsErrors: true);
        var bearerCalls = new List<string>();
        page.Request += (_, request) =>
        {
            if (request.Url.Contains("/admin/v1/", StringComparison.Ordinal) && request.Headers.TryGetValue("authorization", out var value) && value.StartsWith("Bearer ", StringComparison.Ordinal))
            {
                bearerCalls.Add(new Uri(request.Url).AbsolutePath);
            }
        };

        await page.GotoAsync(PortalUrl);
        await Assertions.Expect(page.GetByLabel("Token")).ToBeVisibleAsync(); // one machine: the token form stays
        await ShotAsync(page, "entra-signin");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in with Microsoft" }).ClickAsync();
        await ExpectPageAsync(page, "Customers");

        await Assertions.Expect(page.GetByTestId("customers")).ToContainTextAsync("Entra Visible Ltd");
        await Assertions.Expect(page.GetByTestId("who")).ToContainTextAsync("admin-oid-1 · admin");
        Assert.Contains("/admin/v1/session", bearerCalls);
        Assert.Contains("/admin/v1/customers", bearerCalls);
        Assert.DoesNotContain("code=", page.Url, StringComparison.Ordinal);
        Assert.Empty(await page.Context.CookiesAsync()); // no session cookie: every call carries the bearer token
        Assert.Equal(0, await page.EvaluateAsync<int>("() => localStorage.length"));
        var access = _authority.AccessTokens.Single();
        Assert.Contains(access, await page.EvaluateAsync<string>("() => Object.values(sessionStorage).join(' ')"), StringComparison.Ordinal);
        Assert.Empty(_authority.Refusals);
        await ShotAsync(page, "entra-admin-customers");

        // The token the browser holds is the one the gateway honours, as the admin it names.
        using var request = new HttpRequestMessage(HttpMethod.Get, $"admin/v1/customers/{customer}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", access);
        using var direct = await new HttpClient { BaseAddress = Gateway.Admin.BaseAddress }.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, direct.StatusCode);
        Assert.Empty(PageErrors);
    }

    [Fact]
    public async Task EntraDeveloper_SignsIn_SeesOnlyTheirOwnCustomer()
    {
        var mine = await Gateway.CreateCustomerAsync("Entra Dev Own Ltd");
        var other = await Gateway.CreateCustomerAsync("Entra Someone Else Ltd");
        var (myKeyId, _) = await Gateway.IssueKeyAsync(mine, "narrow");
        var (otherKeyId, _) = await Gateway.IssueKeyAsync(other, "narrow");
        var myPrefix = (await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/keys/{myKeyId}")).GetProperty("displayPrefix").GetString()!;
        var otherPrefix = (await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/keys/{otherKeyId}")).GetProperty("displayPrefix").GetString()!;
        _authority.NextUser = new("dev-oid-1", "Dev Eloper", "developer", mine);
        var page = await NewPageAsync(ignoreHttpsErrors: true);

        await page.GotoAsync(PortalUrl);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in with Microsoft" }).ClickAsync();
        await ExpectPageAsync(page, "My keys");

        await Assertions.Expect(page.GetByTestId("keys")).ToContainTextAsync(myPrefix);
        Assert.DoesNotContain(otherPrefix, await page.ContentAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain("Customers", await page.GetByRole(AriaRole.Navigation).InnerTextAsync(), StringComparison.Ordinal);
        await ShotAsync(page, "entra-developer-keys");
        await OpenAsync(page, $"#/customers/{other}", "Not found");
        Assert.DoesNotContain("Entra Someone Else Ltd", await page.ContentAsync(), StringComparison.Ordinal);
        Assert.Empty(PageErrors);
    }

    [Fact]
    public async Task EntraSignOut_ClearsMsalsCache_AndTheNextPageAsksToSignIn()
    {
        _authority.NextUser = new("admin-oid-2", "Ada Admin", "admin");
        var page = await NewPageAsync(ignoreHttpsErrors: true);
        await page.GotoAsync(PortalUrl);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in with Microsoft" }).ClickAsync();
        await ExpectPageAsync(page, "Customers");
        var access = _authority.AccessTokens.Single();

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in", Exact = true })).ToBeVisibleAsync();

        Assert.Single(_authority.SignOuts);
        Assert.StartsWith(PortalUrl, _authority.SignOuts.Single(), StringComparison.Ordinal);
        Assert.DoesNotContain(access, await page.EvaluateAsync<string>("() => Object.values(sessionStorage).join(' ')"), StringComparison.Ordinal);
        Assert.Equal(0, await page.EvaluateAsync<int>("() => localStorage.length"));
        await page.GotoAsync(PortalUrl + "#/customers");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in", Exact = true })).ToBeVisibleAsync();
        Assert.Empty(PageErrors);
    }

    [Fact]
    public async Task EntraToken_ForAnotherAudience_IsRefused_AndThePortalSaysSo()
    {
        _authority.NextUser = new("admin-oid-3", "Ada Admin", "admin", AccessTokenAudience: "api://some-other-api");
        var page = await NewPageAsync(ignoreHttpsErrors: true);
        await page.GotoAsync(PortalUrl);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in with Microsoft" }).ClickAsync();

        await Assertions.Expect(page.GetByTestId("entra-refused")).ToContainTextAsync("admin API refused");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in", Exact = true })).ToBeVisibleAsync();
        Assert.DoesNotContain("Customers", await page.GetByRole(AriaRole.Navigation).InnerTextAsync(), StringComparison.Ordinal);
        await ShotAsync(page, "entra-wrong-audience");

        using var request = new HttpRequestMessage(HttpMethod.Get, "admin/v1/session");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _authority.AccessTokens.Single());
        using var direct = await new HttpClient { BaseAddress = Gateway.Admin.BaseAddress }.SendAsync(request);
        await Problems.AssertAsync(direct, 401, "urn:gateway:problem:admin-unauthorized");
        Assert.Empty(PageErrors);
    }

    [Fact]
    public async Task EntraConfigured_ConfigJsonNamesIt_AndTheCspAllowsOnlyTheAuthorityBesideSelf()
    {
        using var anonymous = new HttpClient { BaseAddress = Gateway.Admin.BaseAddress };
        using var response = await anonymous.GetAsync("portal/config.json");
        var config = await response.Content.ReadFromJsonAsync<JsonElement>();

        var entra = config.GetProperty("entra");
        Assert.Equal(_authority.Authority, entra.GetProperty("authority").GetString());
        Assert.Equal(TestEntraAuthority.ClientId, entra.GetProperty("clientId").GetString());
        Assert.Equal(TestEntraAuthority.Scope, entra.GetProperty("scope").GetString());
        Assert.True(config.GetProperty("tokenSignIn").GetBoolean());
        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains($"connect-src 'self' {_authority.Origin};", csp, StringComparison.Ordinal);
        Assert.Contains("script-src 'self';", csp, StringComparison.Ordinal);
    }
}
