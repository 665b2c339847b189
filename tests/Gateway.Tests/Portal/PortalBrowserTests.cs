using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Compliance;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Gateway.Tests.Portal;

/// <summary>Each role doing its job in the portal, in a real browser, against a real gateway and upstream.</summary>
[Collection(UsesAzurite.Name)]
public sealed class PortalBrowserTests(Azurite azurite) : PortalBrowserTest(azurite)
{
    /// <summary>Buttons that change something; none may show for compliance.</summary>
    private static readonly string[] MutatingButtons = ["Create customer", "Issue key", "Rotate", "Suspend", "Reactivate", "Revoke"];

    protected override void Settings(Dictionary<string, string?> settings)
    {
        // A small quota, so that a handful of calls moves the bar visibly.
        settings["Gateway:Plans:narrow:MonthlyQuota"] = "20";
        settings["Gateway:Portal:DataPlaneUrl"] = "https://api.example.test";
        // Evidence is flushed by the tests that need it; two calls outside the licence raise a flag.
        settings["Gateway:Compliance:FlushInterval"] = "01:00:00";
        settings["Gateway:Compliance:Plans:narrow:Detection:UnlicensedRouteAttempts"] = "2";
    }

    [Fact]
    public async Task Admin_CreatesCustomerIssuesKeyAndRevokesIt_UsageAndQuotaFollowTheCalls()
    {
        var page = await NewPageAsync();
        await SignInAsync(page, TestGateway.AdminToken, "Customers");
        await ShotAsync(page, "admin-customers");

        var name = $"Browser Co {Guid.NewGuid():N}"[..20];
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync(name);
        await page.GetByLabel("E-mail", new() { Exact = true }).FillAsync("ops@browser.test");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create customer" }).ClickAsync();
        await ExpectPageAsync(page, name);
        var customerId = page.Url.Split('/')[^1];

        await page.GetByRole(AriaRole.Combobox, new() { Name = "Plan", Exact = true }).SelectOptionAsync("narrow");
        await page.GetByRole(AriaRole.Button, new() { Name = "Issue key" }).ClickAsync();
        var secret = (await page.GetByTestId("secret").TextContentAsync())!.Trim();
        await ShotAsync(page, "admin-key-issued");
        Assert.StartsWith("gw_test_", secret, StringComparison.Ordinal);
        await Assertions.Expect(page.GetByTestId("quota-used")).ToHaveTextAsync("0");

        // Shown once: gone after it is acknowledged, and not on the page when it is opened again.
        await page.GetByRole(AriaRole.Button, new() { Name = "I have stored it" }).ClickAsync();
        Assert.DoesNotContain(secret, await page.ContentAsync(), StringComparison.Ordinal);
        await OpenAsync(page, $"#/customers/{customerId}", name);
        Assert.DoesNotContain(secret, await page.ContentAsync(), StringComparison.Ordinal);

        for (var i = 0; i < 5; i++)
        {
            using var ok = await Gateway.Data.SendAsync(TestGateway.Get($"alpha/{i}", secret));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        for (var i = 0; i < 2; i++)
        {
            using var outsidePlan = await Gateway.Data.SendAsync(TestGateway.Get("beta/1", secret));
            Assert.Equal(HttpStatusCode.Forbidden, outsidePlan.StatusCode);
        }

        await OpenAsync(page, $"#/customers/{customerId}", name);
        await Assertions.Expect(page.GetByTestId("quota-used")).ToHaveTextAsync("5");
        await Assertions.Expect(page.GetByTestId("quota")).ToContainTextAsync("5 of 20 included calls (25%)");

        await OpenAsync(page, "#/usage", "Usage");
        await page.GetByLabel("Customer").SelectOptionAsync(customerId);
        await page.GetByRole(AriaRole.Button, new() { Name = "Show" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("billable")).ToHaveTextAsync("5");
        await Assertions.Expect(page.GetByTestId("rejected")).ToHaveTextAsync("2");
        await Assertions.Expect(page.Locator("canvas#usage-chart")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("quota-used")).ToHaveTextAsync("5");
        await ShotAsync(page, "admin-usage");
        await page.GetByText("Show the numbers").ClickAsync();
        await Assertions.Expect(page.Locator("table").Filter(new() { HasText = "alpha (answered)" })).ToBeVisibleAsync();

        await OpenAsync(page, $"#/customers/{customerId}", name);
        await page.GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
        await page.GetByTestId("confirm").ClickAsync();
        await Assertions.Expect(page.GetByTestId("status")).ToHaveTextAsync("revoked");
        await Assertions.Expect(page.GetByTestId("message")).ToContainTextAsync("revoked");
        using var refused = await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", secret));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("urn:gateway:problem:revoked-api-key", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString());

        await OpenAsync(page, "#/audit", "Audit log");
        await Assertions.Expect(page.GetByTestId("audit")).ToContainTextAsync("key.revoked");
        await ShotAsync(page, "admin-audit");

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        Assert.Empty(await page.Context.CookiesAsync());
        Assert.Empty(PageErrors);
    }

    [Fact]
    public async Task UsageOverview_OfManyCustomers_IsOneRequest_WithEachCustomersNumbers()
    {
        var customers = new List<(string Id, int Billable, int Rejected)>();
        for (var i = 0; i < 6; i++)
        {
            var id = await Gateway.CreateCustomerAsync($"Overview {i} Ltd");
            var (_, key) = await Gateway.IssueKeyAsync(id, "narrow");
            for (var call = 0; call < i; call++)
            {
                (await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", key))).Dispose();
            }

            if (i % 2 == 1)
            {
                (await Gateway.Data.SendAsync(TestGateway.Get("beta/1", key))).Dispose(); // outside the narrow plan: rejected
            }

            customers.Add((id, i, i % 2));
        }

        var page = await NewPageAsync();
        await SignInAsync(page, TestGateway.AdminToken, "Customers");
        var requests = new List<string>();
        page.Request += (_, request) =>
        {
            var path = new Uri(request.Url).AbsolutePath;
            if (path.StartsWith("/admin/v1/", StringComparison.Ordinal) && path != "/admin/v1/session")
            {
                requests.Add($"{request.Method} {path}");
            }
        };
        await OpenAsync(page, "#/usage", "Usage");

        var table = page.GetByTestId("usage-overview");
        foreach (var (id, billable, rejected) in customers)
        {
            var row = table.Locator("tr").Filter(new() { Has = page.Locator($"a[href='#/customers/{id}']") });
            await Assertions.Expect(row.Locator("td").Nth(1)).ToHaveTextAsync(billable.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await Assertions.Expect(row.Locator("td").Nth(2)).ToHaveTextAsync(rejected.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        Assert.Equal(["GET /admin/v1/usage/customers"], requests);
        await Assertions.Expect(page.GetByLabel("Customer").Locator("option")).ToHaveCountAsync(customers.Count + 1);
        await ShotAsync(page, "admin-usage-overview");
        Assert.Empty(PageErrors);
    }

    [Fact]
    public async Task Developer_SeesOnlyOwnKeys_AndAnotherCustomersPageByUrlIsNotFound()
    {
        var mine = await Gateway.CreateCustomerAsync("Dev Own Ltd");
        var other = await Gateway.CreateCustomerAsync("Someone Else Ltd");
        var (myKeyId, myKey) = await Gateway.IssueKeyAsync(mine, "narrow");
        var (otherKeyId, _) = await Gateway.IssueKeyAsync(other, "narrow");
        using (var call = await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", myKey)))
        {
            Assert.Equal(HttpStatusCode.OK, call.StatusCode);
        }

        var myPrefix = (await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/keys/{myKeyId}")).GetProperty("displayPrefix").GetString()!;
        var otherPrefix = (await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/keys/{otherKeyId}")).GetProperty("displayPrefix").GetString()!;

        var page = await NewPageAsync();
        await SignInAsync(page, await RoleTokenAsync("developer", mine), "My keys");
        await Assertions.Expect(page.GetByTestId("keys")).ToContainTextAsync(myPrefix);
        Assert.DoesNotContain(otherPrefix, await page.ContentAsync(), StringComparison.Ordinal);
        var menu = await page.GetByRole(AriaRole.Navigation).InnerTextAsync();
        Assert.DoesNotContain("Customers", menu, StringComparison.Ordinal);
        Assert.DoesNotContain("Audit", menu, StringComparison.Ordinal);
        await ShotAsync(page, "developer-keys");

        await page.GetByRole(AriaRole.Button, new() { Name = "Issue key" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("secret-reveal")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("keys").Locator("tbody tr")).ToHaveCountAsync(2);

        await OpenAsync(page, "#/my-usage", "Usage and limits");
        await Assertions.Expect(page.GetByTestId("quota").First).ToContainTextAsync("of 20 included calls");
        await Assertions.Expect(page.GetByTestId("billable")).ToHaveTextAsync("1");
        await Assertions.Expect(page.GetByTestId("limits")).ToBeVisibleAsync();
        await ShotAsync(page, "developer-usage");

        await OpenAsync(page, "#/guide", "Calling the API");
        await Assertions.Expect(page.GetByTestId("base-url")).ToHaveTextAsync("https://api.example.test");
        var curl = await page.GetByTestId("curl").InnerTextAsync();
        Assert.Contains("https://api.example.test/", curl, StringComparison.Ordinal);
        var myKeys = await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/keys?customerId={mine}");
        Assert.Contains(myKeys.GetProperty("items").EnumerateArray(), k => curl.Contains($"Bearer {k.GetProperty("displayPrefix").GetString()}", StringComparison.Ordinal));
        Assert.DoesNotContain(otherPrefix, curl, StringComparison.Ordinal);
        await ShotAsync(page, "developer-guide");

        foreach (var hash in new[] { $"#/customers/{other}", $"#/customers/{mine}", "#/customers", "#/usage", "#/audit" })
        {
            await OpenAsync(page, hash, "Not found");
            var content = await page.ContentAsync();
            Assert.DoesNotContain("Someone Else Ltd", content, StringComparison.Ordinal);
            Assert.DoesNotContain(otherPrefix, content, StringComparison.Ordinal);
        }

        await ShotAsync(page, "developer-not-found");
        Assert.Empty(PageErrors);
    }

    [Fact]
    public async Task Compliance_ReadsCustomersUsageAndAudit_WithoutAnyMutatingControl()
    {
        var customer = await Gateway.CreateCustomerAsync("Reviewed Ltd");
        var (_, key) = await Gateway.IssueKeyAsync(customer, "narrow");
        (await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", key))).Dispose();

        var page = await NewPageAsync();
        await SignInAsync(page, await RoleTokenAsync("compliance"), "Compliance flags");
        await OpenAsync(page, "#/usage", "Usage");
        await Assertions.Expect(page.GetByTestId("usage-overview")).ToContainTextAsync("Reviewed Ltd");
        await ShotAsync(page, "compliance-usage");
        await AssertReadOnlyAsync(page);

        await OpenAsync(page, "#/customers", "Customers");
        await Assertions.Expect(page.GetByTestId("customers")).ToContainTextAsync("Reviewed Ltd");
        await AssertReadOnlyAsync(page);
        await ShotAsync(page, "compliance-customers");

        await OpenAsync(page, $"#/customers/{customer}", "Reviewed Ltd");
        await Assertions.Expect(page.GetByTestId("keys")).ToBeVisibleAsync();
        await AssertReadOnlyAsync(page);
        Assert.Equal(0, await page.Locator("table[data-testid=keys] select").CountAsync());
        await ShotAsync(page, "compliance-customer");

        await OpenAsync(page, "#/audit", "Audit log");
        await Assertions.Expect(page.GetByTestId("audit")).ToContainTextAsync("key.issued");
        await AssertReadOnlyAsync(page);
        await ShotAsync(page, "compliance-audit");
        Assert.Empty(PageErrors);
    }

    [Fact]
    public async Task Compliance_ReviewsAFlagRaisedByRealCalls_ConfirmingWithSuspension_TheGatewayRefusesTheKey()
    {
        var customer = await Gateway.CreateCustomerAsync("Flagged Ltd");
        var (keyId, key) = await Gateway.IssueKeyAsync(customer, "narrow");
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal((HttpStatusCode.Forbidden, "urn:gateway:problem:route-not-in-plan"), await CallAsync($"beta/{i}", key));
        }

        await Gateway.Services.GetRequiredService<EvidenceRecorder>().FlushAsync(default);

        // An admin runs detection from the portal; the flag carries the evidence of the three calls.
        var admin = await NewPageAsync();
        await SignInAsync(admin, TestGateway.AdminToken, "Customers");
        await OpenAsync(admin, "#/flags", "Compliance flags");
        await admin.GetByRole(AriaRole.Button, new() { Name = "Run detection now" }).ClickAsync();
        await Assertions.Expect(admin.GetByTestId("message")).ToContainTextAsync("Detection ran");

        var page = await NewPageAsync();
        await SignInAsync(page, await RoleTokenAsync("compliance"), "Compliance flags");
        await page.GetByLabel("Customer id").FillAsync(customer);
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        var flag = page.Locator("details[data-flag]");
        await Assertions.Expect(flag).ToHaveCountAsync(1);
        await Assertions.Expect(flag.Locator("summary")).ToContainTextAsync("unlicensed route");
        await Assertions.Expect(flag.Locator("summary")).ToContainTextAsync(keyId);
        await flag.Locator("summary").ClickAsync();
        await Assertions.Expect(flag.GetByTestId("evidence")).ToContainTextAsync("attempts3");
        await Assertions.Expect(flag).ToContainTextAsync("Not reviewed yet.");
        await ShotAsync(page, "compliance-flag");

        await flag.GetByLabel("Note (kept in the audit log)").FillAsync("Looking into it with the customer.");
        await flag.GetByRole(AriaRole.Button, new() { Name = "Acknowledge" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("message")).ToContainTextAsync("is now acknowledged");
        await Assertions.Expect(flag.GetByTestId("flag-status")).ToHaveTextAsync("acknowledged");
        Assert.Equal(HttpStatusCode.OK, (await CallAsync("alpha/1", key)).Status);

        await flag.GetByLabel("Note (kept in the audit log)").FillAsync("Confirmed: scraping the beta archive.");
        await flag.GetByRole(AriaRole.Switch, new() { Name = "Suspend the key when confirming" }).CheckAsync();
        await flag.GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
        await page.GetByTestId("confirm").ClickAsync();
        await Assertions.Expect(page.GetByTestId("message")).ToContainTextAsync($"key {keyId} is suspended");
        await Assertions.Expect(flag.GetByTestId("flag-status")).ToHaveTextAsync("confirmed");
        await Assertions.Expect(flag).ToContainTextAsync("Review is closed");
        Assert.Equal((HttpStatusCode.PaymentRequired, "urn:gateway:problem:key-suspended"), await CallAsync("alpha/1", key));

        // Both decisions, with their notes, are in the flag's history (the audit log).
        await OpenAsync(page, "#/flags", "Compliance flags");
        await page.GetByLabel("Status").SelectOptionAsync("confirmed");
        await page.GetByLabel("Customer id").FillAsync(customer);
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await flag.Locator("summary").ClickAsync();
        var history = flag.GetByTestId("history");
        await Assertions.Expect(history.Locator("li")).ToHaveCountAsync(2);
        await Assertions.Expect(history).ToContainTextAsync("Looking into it with the customer.");
        await Assertions.Expect(history).ToContainTextAsync("Confirmed: scraping the beta archive.");
        await ShotAsync(page, "compliance-flag-confirmed");
        Assert.Empty(PageErrors);
    }

    [Fact]
    public async Task Compliance_OpensACustomersReport_WithUsageEvidenceAndFlags_AndDownloadsItsTablesAsCsv()
    {
        var customer = await Gateway.CreateCustomerAsync("Reported Ltd");
        var (keyId, key) = await Gateway.IssueKeyAsync(customer, "narrow");
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await CallAsync($"alpha/{i}", key)).Status);
            Assert.Equal(HttpStatusCode.Forbidden, (await CallAsync($"beta/{i}", key)).Status);
        }

        await Gateway.Services.GetRequiredService<EvidenceRecorder>().FlushAsync(default);
        var flag = Assert.Single(await Gateway.Services.GetRequiredService<ComplianceScan>().RunAsync(default), f => f.KeyId == keyId);

        var page = await NewPageAsync();
        await SignInAsync(page, await RoleTokenAsync("compliance"), "Compliance flags");
        await OpenAsync(page, $"#/customers/{customer}", "Reported Ltd");
        await page.GetByRole(AriaRole.Link, new() { Name = "Compliance report" }).ClickAsync();
        await ExpectPageAsync(page, "Compliance report");
        await Assertions.Expect(page.GetByTestId("report-heading")).ToContainTextAsync("Reported Ltd");
        await Assertions.Expect(page.GetByTestId("report-totals")).ToContainTextAsync("Billable calls3");
        await Assertions.Expect(page.GetByTestId("report-totals")).ToContainTextAsync("Refused by the gateway3");
        var keyCard = page.Locator($"article[data-key='{keyId}']");
        await Assertions.Expect(keyCard.GetByTestId("quota-used")).ToHaveTextAsync("3");
        await Assertions.Expect(keyCard).ToContainTextAsync("declared purpose display");
        await Assertions.Expect(keyCard.GetByTestId("report-evidence")).ToContainTextAsync("Attempts outside the licence3");
        await Assertions.Expect(page.GetByTestId("report-flags")).ToContainTextAsync(flag.Id);
        await ShotAsync(page, "compliance-report");

        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Usage as CSV" }).ClickAsync());
        var csv = await File.ReadAllTextAsync(await download.PathAsync());
        Assert.StartsWith("day,keyId,routeGroup,statusClass,count", csv, StringComparison.Ordinal);
        Assert.Contains($",{keyId},alpha,2xx,3", csv, StringComparison.Ordinal);
        Assert.Equal($"compliance-{customer}-{TestClock.RunStart:yyyy-MM}-usage.csv", download.SuggestedFilename);
        Assert.Empty(PageErrors);
    }

    [Fact]
    public async Task Admin_SuspendsReactivatesChangesPlanAndRotates_TheGatewayFollowsEachAction()
    {
        var customer = await Gateway.CreateCustomerAsync("Lifecycle Ltd");
        var (keyId, key) = await Gateway.IssueKeyAsync(customer, "open");
        var page = await NewPageAsync();
        await SignInAsync(page, TestGateway.AdminToken, "Customers");
        await OpenAsync(page, $"#/customers/{customer}", "Lifecycle Ltd");
        var row = page.Locator($"tr[data-key='{keyId}']");

        await row.GetByRole(AriaRole.Button, new() { Name = "Suspend" }).ClickAsync();
        await Assertions.Expect(row.GetByTestId("status")).ToHaveTextAsync("suspended");
        Assert.Equal((HttpStatusCode.PaymentRequired, "urn:gateway:problem:key-suspended"), await CallAsync("alpha/1", key));

        await row.GetByRole(AriaRole.Button, new() { Name = "Reactivate" }).ClickAsync();
        await Assertions.Expect(row.GetByTestId("status")).ToHaveTextAsync("active");
        Assert.Equal(HttpStatusCode.OK, (await CallAsync("beta/1", key)).Status);

        // "narrow" covers alpha only: beta is refused at once after the change.
        await row.GetByRole(AriaRole.Combobox).SelectOptionAsync("narrow");
        await Assertions.Expect(page.GetByTestId("message")).ToContainTextAsync("is now on plan narrow");
        Assert.Equal((HttpStatusCode.Forbidden, "urn:gateway:problem:route-not-in-plan"), await CallAsync("beta/1", key));

        await row.GetByRole(AriaRole.Button, new() { Name = "Rotate" }).ClickAsync();
        await page.GetByTestId("confirm").ClickAsync();
        var successor = (await page.GetByTestId("secret").TextContentAsync())!.Trim();
        await ShotAsync(page, "admin-key-rotated");
        Assert.NotEqual(key, successor);
        Assert.Equal(HttpStatusCode.OK, (await CallAsync("alpha/1", successor)).Status);
        Assert.Equal(HttpStatusCode.OK, (await CallAsync("alpha/1", key)).Status); // the overlap: both work for now
        Assert.Empty(PageErrors);
    }

    [Fact]
    public async Task Billing_AdminSeesTheInvoicePreviewAndReconciliation_DeveloperOnlyTheirOwnInvoice()
    {
        var customer = await Gateway.CreateCustomerAsync("Invoiced Ltd");
        var (_, key) = await Gateway.IssueKeyAsync(customer, "narrow");
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await CallAsync($"alpha/{i}", key)).Status);
        }

        var page = await NewPageAsync();
        await SignInAsync(page, TestGateway.AdminToken, "Customers");
        await OpenAsync(page, "#/billing", "Invoices and reconciliation");
        await page.GetByLabel("Customer").SelectOptionAsync(customer);
        await page.GetByRole(AriaRole.Button, new() { Name = "Show" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("dry-run")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("preview-totals")).ToContainTextAsync("Billable calls3");
        await Assertions.Expect(page.GetByTestId("invoice-lines")).ToContainTextAsync("plan, 2030-06");
        await Assertions.Expect(page.GetByTestId("reconciled")).ToBeVisibleAsync();
        await ShotAsync(page, "admin-billing");

        var developer = await NewPageAsync();
        await SignInAsync(developer, await RoleTokenAsync("developer", customer), "My keys");
        await OpenAsync(developer, "#/invoice", "My invoice");
        await Assertions.Expect(developer.GetByTestId("preview-totals")).ToContainTextAsync("Billable calls3");
        Assert.Equal(0, await developer.GetByLabel("Customer").CountAsync());
        Assert.Equal(0, await developer.GetByTestId("reconciliation-totals").CountAsync());
        await ShotAsync(developer, "developer-invoice");
        await OpenAsync(developer, "#/billing", "Not found");
        Assert.Empty(PageErrors);
    }

    private async Task<(HttpStatusCode Status, string? Type)> CallAsync(string path, string key)
    {
        using var response = await Gateway.Data.SendAsync(TestGateway.Get(path, key));
        var type = response.IsSuccessStatusCode ? null : (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString();
        return (response.StatusCode, type);
    }

    [Fact]
    public async Task EveryPage_ForEveryRole_HasNoSeriousAccessibilityViolations()
    {
        var customer = await Gateway.CreateCustomerAsync("Accessible Ltd");
        var (_, key) = await Gateway.IssueKeyAsync(customer, "narrow");
        (await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", key))).Dispose();
        var pages = new (string Token, string Start, (string Hash, string Heading)[] Pages)[]
        {
            (TestGateway.AdminToken, "Customers", [("#/customers", "Customers"), ($"#/customers/{customer}", "Accessible Ltd"), ("#/usage", "Usage"), ("#/audit", "Audit log"), ("#/flags", "Compliance flags"), ($"#/reports?customer={customer}", "Compliance report"), ("#/billing", "Invoices and reconciliation")]),
            (await RoleTokenAsync("compliance"), "Compliance flags", [("#/flags", "Compliance flags"), ("#/customers", "Customers"), ("#/usage", "Usage"), ("#/audit", "Audit log"), ($"#/reports?customer={customer}", "Compliance report")]),
            (await RoleTokenAsync("developer", customer), "My keys", [("#/keys", "My keys"), ("#/my-usage", "Usage and limits"), ("#/guide", "Calling the API"), ("#/invoice", "My invoice"), ("#/customers", "Not found")]),
        };

        var violations = new List<string>();
        var signInPage = await NewPageAsync(bypassCsp: true);
        await signInPage.GotoAsync(PortalUrl);
        await ExpectPageAsync(signInPage, "Sign in");
        violations.AddRange((await SeriousAccessibilityViolationsAsync(signInPage)).Select(v => $"sign-in: {v}"));
        await ShotAsync(signInPage, "sign-in");

        // A phone-sized screen too: the menu wraps and tables scroll, nothing is cut off.
        foreach (var (width, height) in new[] { (1280, 900), (390, 844) })
        {
            foreach (var (token, start, visits) in pages)
            {
                var page = await NewPageAsync(bypassCsp: true, width, height);
                await SignInAsync(page, token, start);
                foreach (var (hash, heading) in visits)
                {
                    await OpenAsync(page, hash, heading);
                    violations.AddRange((await SeriousAccessibilityViolationsAsync(page)).Select(v => $"{hash} at {width}px: {v}"));
                }
            }
        }

        Assert.True(violations.Count == 0, string.Join(Environment.NewLine, violations));
    }

    private static async Task AssertReadOnlyAsync(IPage page)
    {
        foreach (var name in MutatingButtons)
        {
            Assert.Equal(0, await page.GetByRole(AriaRole.Button, new() { Name = name }).CountAsync());
        }

        Assert.Equal(0, await page.Locator("form[data-testid=create-customer], form[data-testid=issue-key]").CountAsync());
    }
}
