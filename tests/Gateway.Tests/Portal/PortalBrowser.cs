using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Gateway.Tests.Portal;

/// <summary>
/// A test class that drives the portal in Debian's chromium (<c>/usr/bin/chromium</c>, installed by .ci/run with
/// apt-get; Playwright never downloads a browser here) against a real gateway. Screenshots of every page it visits go
/// to <c>tests/Gateway.Tests/Portal/artifacts/</c> (git-ignored).
/// </summary>
public abstract class PortalBrowserTest(Azurite azurite) : SharedGatewayTest(azurite)
{
    public const string Chromium = "/usr/bin/chromium";

    public static string Artifacts { get; } = Path.Combine(RepositoryRoot.Path, "tests", "Gateway.Tests", "Portal", "artifacts");

    private IPlaywright _playwright = null!;

    protected IBrowser Browser { get; private set; } = null!;

    /// <summary>Errors the pages threw, and console messages about the Content-Security-Policy: a test ends with none.</summary>
    protected List<string> PageErrors { get; } = [];

    protected string PortalUrl => new Uri(Gateway.Admin.BaseAddress!, "portal/").ToString();

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Directory.CreateDirectory(Artifacts);
        // Expectations retry until they hold; 5 s (Playwright's default) is too little for a first table query on a
        // shared 2-core machine at load 30. A page that never settles still fails, after 20 s.
        Assertions.SetDefaultExpectTimeout(20_000);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    public override async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
        await base.DisposeAsync();
    }

    /// <summary>A fresh browser profile (its own cookies) on a laptop-sized screen in a time zone other than UTC.</summary>
    protected async Task<IPage> NewPageAsync(bool bypassCsp = false, int width = 1280, int height = 900, bool ignoreHttpsErrors = false)
    {
        var context = await Browser.NewContextAsync(new()
        {
            ViewportSize = new() { Width = width, Height = height },
            TimezoneId = "Europe/Berlin",
            Locale = "en-GB",
            BypassCSP = bypassCsp,
            IgnoreHTTPSErrors = ignoreHttpsErrors,
        });
        var page = await context.NewPageAsync();
        page.PageError += (_, error) => PageErrors.Add($"page error: {error}");
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                PageErrors.Add($"console: {message.Text}");
            }
        };
        page.SetDefaultTimeout(30_000);
        return page;
    }

    /// <summary>Opens the portal, pastes the token into the sign-in form and waits for the role's first page.</summary>
    protected async Task SignInAsync(IPage page, string token, string expectedHeading)
    {
        await page.GotoAsync(PortalUrl);
        await page.GetByLabel("Token").FillAsync(token);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await ExpectPageAsync(page, expectedHeading);
    }

    /// <summary>Waits for the page's heading and for nothing to be loading any more.</summary>
    protected static async Task ExpectPageAsync(IPage page, string heading)
    {
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = heading, Level = 1 })).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[aria-busy=true]")).ToHaveCountAsync(0);
    }

    /// <summary>Goes to a portal page by its hash (as a person editing the URL would) and waits for it.</summary>
    protected async Task OpenAsync(IPage page, string hash, string heading)
    {
        // Going to the URL the page is on changes no hash, so nothing would load again: reload instead.
        if (page.Url == PortalUrl + hash)
        {
            await page.ReloadAsync();
        }
        else
        {
            await page.GotoAsync(PortalUrl + hash);
        }

        await ExpectPageAsync(page, heading);
    }

    protected static Task ShotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new() { Path = Path.Combine(Artifacts, $"{name}.png"), FullPage = true });

    /// <summary>
    /// Runs axe-core (from node_modules) on the page and returns its serious and critical violations in words. The
    /// page must come from a context made with <c>bypassCsp</c>: the portal's CSP rightly refuses injected scripts.
    /// </summary>
    protected static async Task<List<string>> SeriousAccessibilityViolationsAsync(IPage page)
    {
        await page.AddScriptTagAsync(new() { Path = Path.Combine(RepositoryRoot.Path, "node_modules", "axe-core", "axe.min.js") });
        var violations = await page.EvaluateAsync<JsonElement>("async () => (await axe.run(document, { resultTypes: ['violations'] })).violations");
        return [.. violations.EnumerateArray()
            .Where(v => v.GetProperty("impact").GetString() is "serious" or "critical")
            .Select(v => $"{v.GetProperty("id").GetString()} ({v.GetProperty("impact").GetString()}): {v.GetProperty("help").GetString()} at " +
                string.Join(", ", v.GetProperty("nodes").EnumerateArray().Take(3).Select(n => n.GetProperty("target").ToString())))];
    }

    protected async Task<string> RoleTokenAsync(string role, string? customerId = null)
    {
        using var response = await Gateway.Admin.PostAsJsonAsync("admin/v1/tokens", customerId is null ? new { role } : (object)new { role, customerId });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }
}
