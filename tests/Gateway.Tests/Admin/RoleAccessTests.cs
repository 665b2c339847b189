using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Admin;

/// <summary>
/// Every admin endpoint, walked with every role and with a developer of another customer: each role can do exactly its
/// job. Forbidden is 403 <c>forbidden</c>; another tenant's ids are 404 <c>not-found</c>, never 403.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class RoleAccessTests(Azurite azurite) : SharedGatewayTest(azurite)
{
    private const string Admin = "admin";
    private const string Compliance = "compliance";
    private const string Developer = "developer";
    private const string OtherDeveloper = "developer of another customer";
    private const string Anonymous = "anonymous";

    /// <summary>The status each caller gets from each endpoint, by endpoint name. A new endpoint must be added here.</summary>
    private static readonly Dictionary<string, Dictionary<string, int>> Expected = new()
    {
        ["CreateCustomer"] = Statuses(admin: 201, compliance: 403, developer: 403, other: 403),
        ["ListCustomers"] = Statuses(admin: 200, compliance: 200, developer: 403, other: 403),
        ["GetCustomer"] = Statuses(admin: 200, compliance: 200, developer: 200, other: 404),
        ["UpdateCustomer"] = Statuses(admin: 200, compliance: 403, developer: 403, other: 403),
        ["DeleteCustomer"] = Statuses(admin: 204, compliance: 403, developer: 403, other: 403),
        ["GetSpendCap"] = Statuses(admin: 200, compliance: 200, developer: 200, other: 404),
        ["SetSpendCap"] = Statuses(admin: 200, compliance: 403, developer: 200, other: 404),
        ["IssueKey"] = Statuses(admin: 201, compliance: 403, developer: 201, other: 404),
        ["IssueKeys"] = Statuses(admin: 201, compliance: 403, developer: 403, other: 403),
        ["ListKeys"] = Statuses(admin: 200, compliance: 200, developer: 200, other: 404),
        ["GetKey"] = Statuses(admin: 200, compliance: 200, developer: 200, other: 404),
        ["RenameKey"] = Statuses(admin: 200, compliance: 403, developer: 200, other: 404),
        ["ChangeKeyPlan"] = Statuses(admin: 200, compliance: 403, developer: 403, other: 403),
        ["RotateKey"] = Statuses(admin: 201, compliance: 403, developer: 201, other: 404),
        ["RevokeKey"] = Statuses(admin: 200, compliance: 403, developer: 200, other: 404),
        ["SuspendKey"] = Statuses(admin: 200, compliance: 403, developer: 403, other: 403),
        ["ReactivateKey"] = Statuses(admin: 200, compliance: 403, developer: 403, other: 403),
        ["ListPlans"] = Statuses(admin: 200, compliance: 200, developer: 200, other: 200),
        ["GetUsage"] = Statuses(admin: 200, compliance: 200, developer: 200, other: 404),
        ["GetCustomerUsage"] = Statuses(admin: 200, compliance: 200, developer: 403, other: 403),
        ["GetGatewayStats"] = Statuses(admin: 200, compliance: 403, developer: 403, other: 403),
        ["IssueToken"] = Statuses(admin: 200, compliance: 403, developer: 403, other: 403),
        ["ListAudit"] = Statuses(admin: 200, compliance: 200, developer: 403, other: 403),
        ["RunBillingReport"] = Statuses(admin: 200, compliance: 403, developer: 403, other: 403),
        // The role walk's gateway has no Stripe key: an admin is told the catalog cannot be synced (409), others are refused.
        ["SyncBillingCatalog"] = Statuses(admin: 409, compliance: 403, developer: 403, other: 403),
        ["GetInvoicePreview"] = Statuses(admin: 200, compliance: 200, developer: 200, other: 404),
        ["GetBillingReconciliation"] = Statuses(admin: 200, compliance: 403, developer: 403, other: 403),
        ["ScanCompliance"] = Statuses(admin: 200, compliance: 403, developer: 403, other: 403),
        ["ListComplianceFlags"] = Statuses(admin: 200, compliance: 200, developer: 403, other: 403),
        ["ReviewComplianceFlag"] = Statuses(admin: 200, compliance: 200, developer: 403, other: 403),
        ["GetComplianceReport"] = Statuses(admin: 200, compliance: 200, developer: 403, other: 403),
        ["LookupRecord"] = Statuses(admin: 200, compliance: 200, developer: 403, other: 403),
        ["ReportCanaryFound"] = Statuses(admin: 200, compliance: 200, developer: 403, other: 403),

        // The portal's session (gateway only): who the caller is, for any role; sign-in and sign-out without the portal's
        // CSRF header are refused whoever asks (Portal/PortalSessionTests covers them with it).
        ["GetPortalSession"] = Statuses(admin: 200, compliance: 200, developer: 200, other: 200),
        ["StartPortalSession"] = Everyone(403),
        ["EndPortalSession"] = Everyone(403),
    };

    [Fact]
    public async Task EveryEndpoint_WithEveryRole_AnswersExactlyWhatTheRoleMayDo()
    {
        var customer = await Gateway.CreateCustomerAsync();
        var other = await Gateway.CreateCustomerAsync("Other Co");
        var tokens = new Dictionary<string, string?>
        {
            [Admin] = TestGateway.AdminToken,
            [Compliance] = await TokenAsync(new { role = "compliance" }),
            [Developer] = await TokenAsync(new { role = "developer", customerId = customer }),
            [OtherDeveloper] = await TokenAsync(new { role = "developer", customerId = other }),
            [Anonymous] = null,
        };
        var endpoints = ((IEndpointRouteBuilder)Gateway.App).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith("/admin/v1", StringComparison.Ordinal))
            .Select(e => e.Metadata.GetMetadata<IEndpointNameMetadata>()!.EndpointName)
            .ToList();

        Assert.Equal(Expected.Keys.Order(), endpoints.Order());
        var failures = new List<string>();
        foreach (var endpoint in endpoints)
        {
            foreach (var (caller, token) in tokens)
            {
                using var request = await RequestAsync(endpoint, customer);
                request.Headers.Authorization = token is null ? null : new AuthenticationHeaderValue("Bearer", token);
                using var client = new HttpClient { BaseAddress = Gateway.Admin.BaseAddress };
                using var response = await client.SendAsync(request);
                var expected = Expected[endpoint][caller];
                var body = await response.Content.ReadAsStringAsync();
                if ((int)response.StatusCode != expected)
                {
                    failures.Add($"{endpoint} as {caller}: expected {expected}, got {(int)response.StatusCode} {body}");
                }
                else if (expected >= 400)
                {
                    var type = JsonDocument.Parse(body).RootElement.GetProperty("type").GetString();
                    var expectedType = expected switch { 401 => "admin-unauthorized", 403 => "forbidden", 409 => "conflict", _ => "not-found" };
                    if (type != "urn:gateway:problem:" + expectedType || response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                    {
                        failures.Add($"{endpoint} as {caller}: expected problem {expectedType}, got {body}");
                    }
                }
            }
        }

        Assert.Empty(failures);
    }

    protected override void Settings(Dictionary<string, string?> settings) =>
        settings["Gateway:Stripe:WebhookSecret"] = Billing.StripeWebhookEvents.Secret;

    /// <summary>
    /// <c>POST /billing/stripe/webhook</c> (outside <c>/admin/v1</c>, so not in the walk above) takes no role: it is
    /// anonymous to ASP.NET and authenticated by the Stripe-Signature header alone. Without a valid signature every
    /// caller, whatever token it presents, gets 400 <c>webhook-signature-invalid</c>; with one, no token is needed.
    /// </summary>
    [Fact]
    public async Task StripeWebhook_WithEveryRole_IsJudgedByTheStripeSignatureOnly()
    {
        var customer = await Gateway.CreateCustomerAsync();
        var other = await Gateway.CreateCustomerAsync("Other Co");
        var tokens = new Dictionary<string, string?>
        {
            [Admin] = TestGateway.AdminToken,
            [Compliance] = await TokenAsync(new { role = "compliance" }),
            [Developer] = await TokenAsync(new { role = "developer", customerId = customer }),
            [OtherDeveloper] = await TokenAsync(new { role = "developer", customerId = other }),
            [Anonymous] = null,
        };
        var body = Billing.StripeWebhookEvents.Event(Billing.StripeWebhookEvents.NewEventId(), "customer.tax_id.created", TestClock.Instance.GetUtcNow(), Billing.StripeWebhookEvents.CurrentApiVersion, new { id = "txi_1", @object = "tax_id" });

        var failures = new List<string>();
        foreach (var (caller, token) in tokens)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "billing/stripe/webhook") { Content = new StringContent(body) };
            request.Headers.Authorization = token is null ? null : new AuthenticationHeaderValue("Bearer", token);
            request.Headers.TryAddWithoutValidation("Stripe-Signature", Billing.StripeWebhookEvents.Sign(body, TestClock.Instance.GetUtcNow(), "whsec_not_the_secret"));
            using var client = new HttpClient { BaseAddress = Gateway.Admin.BaseAddress };
            using var response = await client.SendAsync(request);
            var answer = await response.Content.ReadAsStringAsync();
            if ((int)response.StatusCode != 400 || !answer.Contains("urn:gateway:problem:webhook-signature-invalid", StringComparison.Ordinal))
            {
                failures.Add($"webhook as {caller} with a forged signature: expected 400 webhook-signature-invalid, got {(int)response.StatusCode} {answer}");
            }
        }

        using var signed = new HttpRequestMessage(HttpMethod.Post, "billing/stripe/webhook") { Content = new StringContent(body) };
        signed.Headers.TryAddWithoutValidation("Stripe-Signature", Billing.StripeWebhookEvents.Sign(body, TestClock.Instance.GetUtcNow()));
        using var anonymous = new HttpClient { BaseAddress = Gateway.Admin.BaseAddress };
        using var accepted = await anonymous.SendAsync(signed);

        Assert.Empty(failures);
        Assert.Equal(200, (int)accepted.StatusCode);
    }

    /// <summary>The new query parameters and the CSV representation give no role more than the endpoint's JSON does.</summary>
    [Theory]
    [InlineData("usage-csv", 200, 200, 200, 404)]
    [InlineData("usage-month-routegroup", 200, 200, 200, 404)]
    [InlineData("audit-page", 200, 200, 403, 403)]
    public async Task NewParameters_WithEveryRole_AnswerWhatTheEndpointAllows(string request, int admin, int compliance, int developer, int other)
    {
        var customer = await Gateway.CreateCustomerAsync();
        var otherCustomer = await Gateway.CreateCustomerAsync("Other Co");
        var tokens = new Dictionary<string, (string? Token, int Status)>
        {
            [Admin] = (TestGateway.AdminToken, admin),
            [Compliance] = (await TokenAsync(new { role = "compliance" }), compliance),
            [Developer] = (await TokenAsync(new { role = "developer", customerId = customer }), developer),
            [OtherDeveloper] = (await TokenAsync(new { role = "developer", customerId = otherCustomer }), other),
            [Anonymous] = (null, 401),
        };

        var failures = new List<string>();
        foreach (var (caller, (token, expected)) in tokens)
        {
            using var message = request switch
            {
                "usage-csv" => new HttpRequestMessage(HttpMethod.Get, $"admin/v1/usage?customerId={customer}&granularity=month"),
                "usage-month-routegroup" => new HttpRequestMessage(HttpMethod.Get, $"admin/v1/usage?customerId={customer}&granularity=month&routeGroup=alpha"),
                _ => new HttpRequestMessage(HttpMethod.Get, "admin/v1/audit?limit=1&continuationToken=0000000000000000000-00000000"),
            };
            if (request == "usage-csv")
            {
                message.Headers.Accept.ParseAdd("text/csv");
            }

            message.Headers.Authorization = token is null ? null : new AuthenticationHeaderValue("Bearer", token);
            using var client = new HttpClient { BaseAddress = Gateway.Admin.BaseAddress };
            using var response = await client.SendAsync(message);
            var body = await response.Content.ReadAsStringAsync();
            var mediaType = response.Content.Headers.ContentType?.MediaType;
            if ((int)response.StatusCode != expected)
            {
                failures.Add($"{request} as {caller}: expected {expected}, got {(int)response.StatusCode} {body}");
            }
            else if (expected >= 400 && mediaType != "application/problem+json")
            {
                failures.Add($"{request} as {caller}: a refusal must be problem+json, got {mediaType}: {body}");
            }
            else if (expected == 200 && request == "usage-csv" && (mediaType != "text/csv" || !body.StartsWith("start,routeGroup,statusClass,count", StringComparison.Ordinal)))
            {
                failures.Add($"{request} as {caller}: expected CSV, got {mediaType}: {body}");
            }
        }

        Assert.Empty(failures);
    }

    [Fact]
    public async Task IssueToken_AnswersRoleCustomerAndExpiry_AndRefusesBadRoles()
    {
        var customer = await Gateway.CreateCustomerAsync();

        using var issued = await Gateway.Admin.PostAsJsonAsync("admin/v1/tokens", new { role = "developer", customerId = customer });
        using var unknownRole = await Gateway.Admin.PostAsJsonAsync("admin/v1/tokens", new { role = "root" });
        using var noCustomer = await Gateway.Admin.PostAsJsonAsync("admin/v1/tokens", new { role = "developer" });
        using var unknownCustomer = await Gateway.Admin.PostAsJsonAsync("admin/v1/tokens", new { role = "developer", customerId = "cus_0000000000000000" });
        using var customerForCompliance = await Gateway.Admin.PostAsJsonAsync("admin/v1/tokens", new { role = "compliance", customerId = customer });

        var body = await issued.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("developer", body.GetProperty("role").GetString());
        Assert.Equal(customer, body.GetProperty("customerId").GetString());
        Assert.Equal(TestClock.Instance.GetUtcNow().AddHours(8), body.GetProperty("expiresAt").GetDateTimeOffset(), TimeSpan.FromMinutes(1));
        Assert.Equal(2, body.GetProperty("token").GetString()!.Count(c => c == '.'));
        Assert.True((await Problems.AssertAsync(unknownRole, 400, "urn:gateway:problem:invalid-request")).GetProperty("errors").TryGetProperty("role", out _));
        Assert.True((await Problems.AssertAsync(noCustomer, 400, "urn:gateway:problem:invalid-request")).GetProperty("errors").TryGetProperty("customerId", out _));
        await Problems.AssertAsync(unknownCustomer, 404, "urn:gateway:problem:not-found");
        Assert.True((await Problems.AssertAsync(customerForCompliance, 400, "urn:gateway:problem:invalid-request")).GetProperty("errors").TryGetProperty("customerId", out _));
    }

    [Fact]
    public async Task RoleToken_AfterItExpires_OrTamperedWith_Returns401()
    {
        var clock = new FakeTimeProvider(TestClock.RunStart);
        await using var gateway = await StartGatewayAsync(s => s["Gateway:SignIn:TokenLifetime"] = "00:10:00", services: s => s.AddSingleton<TimeProvider>(clock));
        using var issued = await gateway.Admin.PostAsJsonAsync("admin/v1/tokens", new { role = "compliance" });
        var token = (await issued.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
        using var client = new HttpClient { BaseAddress = gateway.Admin.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);

        using var fresh = await client.GetAsync("admin/v1/plans");
        client.DefaultRequestHeaders.Authorization = new("Bearer", token[..^2] + (token[^2] == 'A' ? "BB" : "AA"));
        using var tampered = await client.GetAsync("admin/v1/plans");
        clock.Advance(TimeSpan.FromMinutes(11));
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        using var expired = await client.GetAsync("admin/v1/plans");

        Assert.Equal(200, (int)fresh.StatusCode);
        await Problems.AssertAsync(tampered, 401, "urn:gateway:problem:admin-unauthorized");
        await Problems.AssertAsync(expired, 401, "urn:gateway:problem:admin-unauthorized");
    }

    private static Dictionary<string, int> Statuses(int admin, int compliance, int developer, int other) => new()
    {
        [Admin] = admin,
        [Compliance] = compliance,
        [Developer] = developer,
        [OtherDeveloper] = other,
        [Anonymous] = 401,
    };

    private static Dictionary<string, int> Everyone(int status) => new()
    {
        [Admin] = status,
        [Compliance] = status,
        [Developer] = status,
        [OtherDeveloper] = status,
        [Anonymous] = status,
    };

    private async Task<string> TokenAsync(object body)
    {
        using var response = await Gateway.Admin.PostAsJsonAsync("admin/v1/tokens", body);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    /// <summary>A request to the endpoint about <paramref name="customer"/>, with fresh state where the call changes it.</summary>
    private async Task<HttpRequestMessage> RequestAsync(string endpoint, string customer)
    {
        switch (endpoint)
        {
            case "CreateCustomer":
                return Post("admin/v1/customers", new { name = "Acme", email = "dev@acme.test" });
            case "ListCustomers":
                return new(HttpMethod.Get, "admin/v1/customers");
            case "GetCustomer":
                return new(HttpMethod.Get, $"admin/v1/customers/{customer}");
            case "UpdateCustomer":
                return new(HttpMethod.Patch, $"admin/v1/customers/{customer}") { Content = JsonContent.Create(new { email = "dev@acme.test" }) };
            case "GetSpendCap":
                return new(HttpMethod.Get, $"admin/v1/customers/{customer}/spend-cap");
            case "SetSpendCap":
                return new(HttpMethod.Put, $"admin/v1/customers/{customer}/spend-cap") { Content = JsonContent.Create(new { monthlyCap = 250.5m }) };
            case "DeleteCustomer":
                return new(HttpMethod.Delete, $"admin/v1/customers/{await Gateway.CreateCustomerAsync("Doomed Ltd")}");
            case "IssueKey":
                return Post("admin/v1/keys", new { customerId = customer, plan = "open" });
            case "IssueKeys":
                return Post("admin/v1/keys/bulk", new { customerId = customer, plan = "open", count = 3 });
            case "ListKeys":
                return new(HttpMethod.Get, $"admin/v1/keys?customerId={customer}");
            case "GetKey":
                return new(HttpMethod.Get, $"admin/v1/keys/{(await Gateway.IssueKeyAsync(customer)).Id}");
            case "RenameKey":
                return new(HttpMethod.Patch, $"admin/v1/keys/{(await Gateway.IssueKeyAsync(customer)).Id}") { Content = JsonContent.Create(new { name = "renamed" }) };
            case "ChangeKeyPlan":
                return new(HttpMethod.Put, $"admin/v1/keys/{(await Gateway.IssueKeyAsync(customer)).Id}/plan") { Content = JsonContent.Create(new { plan = "narrow" }) };
            case "RotateKey":
                return Post($"admin/v1/keys/{(await Gateway.IssueKeyAsync(customer)).Id}/rotate", new { overlap = 60 });
            case "RevokeKey" or "SuspendKey":
                var (key, _) = await Gateway.IssueKeyAsync(customer);
                return new(HttpMethod.Post, $"admin/v1/keys/{key}/{(endpoint == "RevokeKey" ? "revoke" : "suspend")}");
            case "ReactivateKey":
                var (suspended, _) = await Gateway.IssueKeyAsync(customer);
                (await Gateway.Admin.PostAsync($"admin/v1/keys/{suspended}/suspend", null)).EnsureSuccessStatusCode();
                return new(HttpMethod.Post, $"admin/v1/keys/{suspended}/reactivate");
            case "ListPlans":
                return new(HttpMethod.Get, "admin/v1/plans");
            case "GetUsage":
                return new(HttpMethod.Get, $"admin/v1/usage?customerId={customer}");
            case "GetCustomerUsage":
                return new(HttpMethod.Get, "admin/v1/usage/customers");
            case "GetGatewayStats":
                return new(HttpMethod.Get, "admin/v1/stats");
            case "ListAudit":
                return new(HttpMethod.Get, "admin/v1/audit");
            case "RunBillingReport":
                return new(HttpMethod.Post, "admin/v1/billing/report");
            case "SyncBillingCatalog":
                return new(HttpMethod.Post, "admin/v1/billing/catalog/sync");
            case "GetInvoicePreview":
                return new(HttpMethod.Get, $"admin/v1/billing/preview?customerId={customer}");
            case "GetBillingReconciliation":
                return new(HttpMethod.Get, $"admin/v1/billing/reconciliation?customerId={customer}");
            case "ScanCompliance":
                return new(HttpMethod.Post, "admin/v1/compliance/scan");
            case "GetComplianceReport":
                return new(HttpMethod.Get, $"admin/v1/compliance/reports/{customer}");
            case "ListComplianceFlags":
                return new(HttpMethod.Get, $"admin/v1/compliance/flags?customerId={customer}");
            case "LookupRecord":
                return new(HttpMethod.Get, "admin/v1/compliance/lookup?recordId=post-1&day=2030-06-15");
            case "ReportCanaryFound":
                var (receiver, _) = await Gateway.IssueKeyAsync(customer);
                var canary = new global::Gateway.Compliance.Canary($"canary-{receiver}", receiver, customer, "alpha", TestClock.RunStart.UtcTicks / TimeSpan.TicksPerDay, [(byte)'{', (byte)'}']);
                await Gateway.Services.GetRequiredService<global::Gateway.Compliance.CanaryTable>().WriteAsync(canary, default);
                return Post("admin/v1/compliance/canaries/found", new { canaryId = canary.Id, foundWhere = "https://example.test/dump" });
            case "ReviewComplianceFlag":
                var (flagged, _) = await Gateway.IssueKeyAsync(customer);
                var flag = await Gateway.Services.GetRequiredService<global::Gateway.Compliance.FlagTable>().RaiseOrGrowAsync(
                    new(global::Gateway.Compliance.FlagKinds.UnlicensedRoute, customer, flagged, "medium", TestClock.RunStart, TestClock.RunStart.AddHours(1), new Dictionary<string, long> { ["attempts"] = 5 }, "5 calls outside the licence", "display", 1),
                    default);
                return Post($"admin/v1/compliance/flags/{flag!.Id}/review", new { status = "acknowledged", note = "looking" });
            case "IssueToken":
                return Post("admin/v1/tokens", new { role = "compliance" });
            case "GetPortalSession":
                return new(HttpMethod.Get, "admin/v1/session");
            case "StartPortalSession":
                return Post("admin/v1/session", new { token = TestGateway.AdminToken });
            case "EndPortalSession":
                return new(HttpMethod.Delete, "admin/v1/session");
            default:
                throw new InvalidOperationException($"No request for {endpoint}: add it here and to {nameof(Expected)}.");
        }
    }

    private static HttpRequestMessage Post(string path, object body) => new(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
}
