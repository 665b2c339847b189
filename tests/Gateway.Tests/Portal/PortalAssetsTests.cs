using System.Net;
using System.Text.RegularExpressions;
using Gateway.Proxy.Portal;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Portal;

/// <summary>The portal's files on the admin port: the shell, fingerprinted assets, their caching and CSP; not on the data port.</summary>
[Collection(UsesAzurite.Name)]
public sealed partial class PortalAssetsTests(Azurite azurite) : SharedGatewayTest(azurite)
{
    [Fact]
    public async Task Shell_OnTheAdminPort_IsNoCacheWithAStrictCsp()
    {
        using var anonymous = new HttpClient { BaseAddress = Gateway.Admin.BaseAddress };
        using var response = await anonymous.GetAsync("portal/");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-cache", response.Headers.CacheControl?.ToString());
        var csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-eval", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.DoesNotMatch(InlineScript(), html);
    }

    [Fact]
    public async Task FingerprintedAssets_NamedByTheShell_AreCachedForAYear()
    {
        using var anonymous = new HttpClient { BaseAddress = Gateway.Admin.BaseAddress };
        var html = await anonymous.GetStringAsync("portal/");
        var assets = AssetReference().Matches(html).Select(m => m.Groups["path"].Value).ToList();

        Assert.Equal(2, assets.Count); // the module bundle and the stylesheet
        foreach (var asset in assets)
        {
            using var response = await anonymous.GetAsync($"portal/{asset}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("public, max-age=31536000, immutable", response.Headers.CacheControl?.ToString());
        }

        using var config = await anonymous.GetAsync("portal/config.json");
        Assert.Equal("no-cache", config.Headers.CacheControl?.ToString());
        Assert.Equal("""{"apiBase":"","dataPlaneUrl":null,"entra":null,"tokenSignIn":true}""", Regex.Replace(await config.Content.ReadAsStringAsync(), "\\s", ""));
        Assert.Contains("script-src 'self'", string.Join(";", config.Headers.GetValues("Content-Security-Policy")), StringComparison.Ordinal);
        Assert.Contains("connect-src 'self';", string.Join(";", config.Headers.GetValues("Content-Security-Policy")), StringComparison.Ordinal); // no Entra: nothing else
    }

    [Fact]
    public async Task Config_WithADataPlaneUrlConfigured_TellsThePortalWhereCallersReachTheApi()
    {
        await using var gateway = await TestGateway.StartAsync(Azurite, Upstream, s => s["Gateway:Portal:DataPlaneUrl"] = "https://api.example.test/");
        using var anonymous = new HttpClient { BaseAddress = gateway.Admin.BaseAddress };

        using var config = await anonymous.GetAsync("portal/config.json");
        using var onDataPort = await gateway.Data.GetAsync("portal/config.json");

        Assert.Equal("""{"apiBase":"","dataPlaneUrl":"https://api.example.test","entra":null,"tokenSignIn":true}""", Regex.Replace(await config.Content.ReadAsStringAsync(), "\\s", ""));
        Assert.Equal(HttpStatusCode.NotFound, onDataPort.StatusCode);
    }

    [Fact]
    public async Task Portal_OnTheDataPort_IsNotFound()
    {
        using var response = await Gateway.Data.GetAsync("portal/");
        using var missing = await new HttpClient { BaseAddress = Gateway.Admin.BaseAddress }.GetAsync("portal/assets/nothing-AAAAAAAA.js");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task PortalWithoutSlash_RedirectsToTheShell()
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = Gateway.Admin.BaseAddress };
        using var response = await client.GetAsync("portal");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/portal/", response.Headers.Location?.ToString());
    }

    [Theory]
    [InlineData("app-WICXJAMR.js", true)]
    [InlineData("app-X2C7EKI7.css", true)]
    [InlineData("index.html", false)]
    [InlineData("config.json", false)]
    [InlineData("app.js", false)]
    public void IsFingerprinted_ByName_TellsBuildOutputFromTheShell(string name, bool fingerprinted) =>
        Assert.Equal(fingerprinted, PortalAssets.IsFingerprinted(name));

    [GeneratedRegex("<script(?![^>]*\\bsrc=)[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex InlineScript();

    [GeneratedRegex("(?:src|href)=\"(?<path>assets/[^\"]+)\"")]
    private static partial Regex AssetReference();
}
