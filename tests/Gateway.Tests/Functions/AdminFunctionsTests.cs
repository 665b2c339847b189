using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using global::Gateway.ControlPlane.Http;
using global::Gateway.ControlPlane.Keys;
using global::Gateway.Functions.Admin;
using global::Gateway.Functions.Keys;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.Tests.Functions;

/// <summary>
/// The function app serves the control plane as the gateway's admin port does: every operation has a function with the
/// same method and route (read from the build's generated <c>functions.metadata</c>), and the functions, called
/// in-process against the same Azurite tables, answer the same requests with the same status, type and body.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class AdminFunctionsTests(Azurite azurite) : SharedGatewayTest(azurite)
{
    private FunctionHost _functions = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var settings = TestGateway.DefaultSettings(Azurite, Upstream, Gateway.TablePrefix);
        Settings(settings);
        _functions = new FunctionHost(settings);
    }

    protected override void Settings(Dictionary<string, string?> settings) =>
        settings["Gateway:Stripe:WebhookSecret"] = Billing.StripeWebhookEvents.Secret;

    public override async Task DisposeAsync()
    {
        await _functions.StopAsync();
        await base.DisposeAsync();
    }

    [Fact]
    public void FunctionsMetadata_HasEveryOperation_WithTheSameMethodAndRoute()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var path = Path.Combine(RepositoryRoot.Path, "functions", "bin", configuration, "net10.0", "functions.metadata");
        var functions = JsonDocument.Parse(File.ReadAllText(path)).RootElement.EnumerateArray()
            .Where(f => f.GetProperty("bindings").EnumerateArray().Any(b => b.GetProperty("type").GetString() == "httpTrigger"))
            .Select(f => (Name: f.GetProperty("name").GetString()!, Trigger: f.GetProperty("bindings").EnumerateArray().Single(b => b.GetProperty("type").GetString() == "httpTrigger")))
            .ToDictionary(
                f => f.Name,
                f => (Methods: f.Trigger.GetProperty("methods").EnumerateArray().Select(m => m.GetString()!.ToUpperInvariant()).Order().ToList(), Route: "/" + f.Trigger.GetProperty("route").GetString()));
        var operations = ((IEndpointRouteBuilder)Gateway.App).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<ControlPlaneOperation>() is not null)
            .Select(e => (
                Name: e.Metadata.GetMetadata<IEndpointNameMetadata>()!.EndpointName,
                Methods: e.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods.Select(m => m.ToUpperInvariant()).Order().ToList(),
                Route: e.RoutePattern.RawText!))
            .ToList();

        Assert.NotEmpty(operations);
        foreach (var operation in operations)
        {
            Assert.True(functions.TryGetValue(operation.Name, out var function), $"No function named {operation.Name} in {path}.");
            Assert.Equal(operation.Methods, function.Methods);
            Assert.Equal(operation.Route, function.Route);
        }

        var adminFunctions = functions.Where(f => f.Value.Route.StartsWith("/admin/", StringComparison.Ordinal) || f.Value.Route == global::Gateway.ControlPlane.Apis.StripeWebhookApi.Route).Select(f => f.Key).Order();
        Assert.Equal(operations.Select(o => o.Name).Order(), adminFunctions);
    }

    [Fact]
    public void FunctionsMetadata_HasTheRotationSweepTimer_OnTheSweepsSchedule()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var path = Path.Combine(RepositoryRoot.Path, "functions", "bin", configuration, "net10.0", "functions.metadata");
        var sweep = JsonDocument.Parse(File.ReadAllText(path)).RootElement.EnumerateArray()
            .Single(f => f.GetProperty("name").GetString() == RotationOverlapSweepFunction.Name);

        var trigger = Assert.Single(sweep.GetProperty("bindings").EnumerateArray());
        Assert.Equal("timerTrigger", trigger.GetProperty("type").GetString());
        Assert.Equal(RotationOverlapSweep.Schedule, trigger.GetProperty("schedule").GetString());
        Assert.Equal("0 * * * * *", trigger.GetProperty("schedule").GetString());
        Assert.Equal(TimeSpan.FromMinutes(1), RotationOverlapSweep.Interval);
    }

    [Fact]
    public void FunctionsMetadata_HasTheComplianceScanTimer_OnTheDefaultScanInterval()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var path = Path.Combine(RepositoryRoot.Path, "functions", "bin", configuration, "net10.0", "functions.metadata");
        var scan = JsonDocument.Parse(File.ReadAllText(path)).RootElement.EnumerateArray()
            .Single(f => f.GetProperty("name").GetString() == global::Gateway.Functions.Compliance.ComplianceScanFunction.Name);

        var trigger = Assert.Single(scan.GetProperty("bindings").EnumerateArray());
        Assert.Equal("timerTrigger", trigger.GetProperty("type").GetString());
        Assert.Equal("0 */5 * * * *", trigger.GetProperty("schedule").GetString());
        Assert.Equal(TimeSpan.FromMinutes(5), new global::Gateway.Compliance.ComplianceOptions().ScanInterval);
    }

    [Fact]
    public void FunctionsMetadata_HasTheStripeWebhook_AndThePaymentGraceSweepTimer()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var path = Path.Combine(RepositoryRoot.Path, "functions", "bin", configuration, "net10.0", "functions.metadata");
        var functions = JsonDocument.Parse(File.ReadAllText(path)).RootElement.EnumerateArray().ToList();

        var webhook = functions.Single(f => f.GetProperty("name").GetString() == nameof(global::Gateway.ControlPlane.Apis.StripeWebhookApi.ReceiveStripeWebhook));
        var http = webhook.GetProperty("bindings").EnumerateArray().Single(b => b.GetProperty("type").GetString() == "httpTrigger");
        Assert.Equal("billing/stripe/webhook", http.GetProperty("route").GetString());
        Assert.Equal("anonymous", http.GetProperty("authLevel").GetString(), ignoreCase: true);
        var sweep = functions.Single(f => f.GetProperty("name").GetString() == global::Gateway.Functions.Billing.PaymentGraceSweepFunction.Name);
        var timer = Assert.Single(sweep.GetProperty("bindings").EnumerateArray());
        Assert.Equal("timerTrigger", timer.GetProperty("type").GetString());
        Assert.Equal(global::Gateway.ControlPlane.Billing.PaymentGraceSweep.Schedule, timer.GetProperty("schedule").GetString());
    }

    [Fact]
    public async Task StripeWebhook_ThroughTheFunction_RefusesAForgedDeliveryAsTheGatewayDoes_AndAppliesASignedOne()
    {
        var (_, stripeCustomer, keyId, _) = await Billing.StripeWebhookEvents.LinkedCustomerWithKeyAsync(Gateway);
        var now = TestClock.Instance.GetUtcNow();
        var body = Billing.StripeWebhookEvents.Subscription("customer.subscription.updated", stripeCustomer, now, "narrow");
        var forged = new Dictionary<string, string> { ["Stripe-Signature"] = Billing.StripeWebhookEvents.Sign(body, now, "whsec_forged") };

        var function = await _functions.InvokeAsync<global::Gateway.Functions.Billing.StripeWebhookFunction>((f, r) => f.Run(r), "POST", "/billing/stripe/webhook", json: body, token: null, headers: forged);
        using var gateway = await Billing.StripeWebhookEvents.DeliverAsync(Gateway, body, forged["Stripe-Signature"]);

        Assert.Equal((int)gateway.StatusCode, function.Status);
        Assert.Equal(
            JsonDocument.Parse(await gateway.Content.ReadAsStringAsync()).RootElement.GetProperty("type").GetString(),
            JsonDocument.Parse(function.Body).RootElement.GetProperty("type").GetString());
        Assert.Equal("open", (await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/keys/{keyId}")).GetProperty("plan").GetString());

        var signed = new Dictionary<string, string> { ["Stripe-Signature"] = Billing.StripeWebhookEvents.Sign(body, now) };
        var applied = await _functions.InvokeAsync<global::Gateway.Functions.Billing.StripeWebhookFunction>((f, r) => f.Run(r), "POST", "/billing/stripe/webhook", json: body, token: null, headers: signed);
        using var repeated = await Billing.StripeWebhookEvents.DeliverAsync(Gateway, body, signed["Stripe-Signature"]);

        Assert.Equal((400, 200), (function.Status, applied.Status));
        Assert.Equal("applied", JsonDocument.Parse(applied.Body).RootElement.GetProperty("outcome").GetString());
        Assert.Equal("duplicate", JsonDocument.Parse(await repeated.Content.ReadAsStringAsync()).RootElement.GetProperty("outcome").GetString());
        Assert.Equal("narrow", (await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/keys/{keyId}")).GetProperty("plan").GetString());
    }

    [Fact]
    public async Task Reads_AnswerTheSameInBothHosts()
    {
        var customer = await Gateway.CreateCustomerAsync();
        var (keyId, _) = await Gateway.IssueKeyAsync(customer);
        const string Missing = "cus_0000000000000000";

        await AssertSameAsync<ListPlansFunction>((f, r) => f.Run(r), "GET", "/admin/v1/plans");
        await AssertSameAsync<GetCustomerFunction>((f, r) => f.Run(r, customer), "GET", $"/admin/v1/customers/{customer}");
        await AssertSameAsync<GetCustomerFunction>((f, r) => f.Run(r, Missing), "GET", $"/admin/v1/customers/{Missing}");
        await AssertSameAsync<GetCustomerFunction>((f, r) => f.Run(r, "a'b"), "GET", "/admin/v1/customers/a'b");
        await AssertSameAsync<ListCustomersFunction>((f, r) => f.Run(r), "GET", "/admin/v1/customers", $"?search={customer}");
        await AssertSameAsync<ListCustomersFunction>((f, r) => f.Run(r), "GET", "/admin/v1/customers", "?limit=0");
        await AssertSameAsync<DeleteCustomerFunction>((f, r) => f.Run(r, customer), "DELETE", $"/admin/v1/customers/{customer}");
        await AssertSameAsync<DeleteCustomerFunction>((f, r) => f.Run(r, Missing), "DELETE", $"/admin/v1/customers/{Missing}");
        await AssertSameAsync<GetKeyFunction>((f, r) => f.Run(r, keyId), "GET", $"/admin/v1/keys/{keyId}");
        await AssertSameAsync<GetKeyFunction>((f, r) => f.Run(r, "NoSuchKey123"), "GET", "/admin/v1/keys/NoSuchKey123");
        await AssertSameAsync<ListKeysFunction>((f, r) => f.Run(r), "GET", "/admin/v1/keys", $"?customerId={customer}");
        await AssertSameAsync<ListKeysFunction>((f, r) => f.Run(r), "GET", "/admin/v1/keys", "?customerId=a%2Fb");
        await AssertSameAsync<ListKeysFunction>((f, r) => f.Run(r), "GET", "/admin/v1/keys", $"?customerId={Missing}");
        await AssertSameAsync<GetUsageFunction>((f, r) => f.Run(r), "GET", "/admin/v1/usage", $"?customerId={customer}&from=2026-01-01&to=2026-02-01&granularity=day");
        await AssertSameAsync<GetUsageFunction>((f, r) => f.Run(r), "GET", "/admin/v1/usage", $"?customerId={customer}&granularity=minute");
        await AssertSameAsync<GetUsageFunction>((f, r) => f.Run(r), "GET", "/admin/v1/usage", $"?customerId={customer}&from=2026-01-01&to=2026-03-01&granularity=month&routeGroup=alpha");
        await AssertSameAsync<GetUsageFunction>((f, r) => f.Run(r), "GET", "/admin/v1/usage", $"?customerId={customer}&routeGroup=%0A");
        await AssertSameAsync<GetCustomerUsageFunction>((f, r) => f.Run(r), "GET", "/admin/v1/usage/customers", $"?search={customer}&from=2026-01-01&to=2026-02-01");
        await AssertSameAsync<GetCustomerUsageFunction>((f, r) => f.Run(r), "GET", "/admin/v1/usage/customers", "?from=2026-02-01&to=2026-01-01");
        await AssertSameAsync<ListAuditFunction>((f, r) => f.Run(r), "GET", "/admin/v1/audit", $"?target={customer}&limit=1");
        await AssertSameAsync<ListAuditFunction>((f, r) => f.Run(r), "GET", "/admin/v1/audit", "?limit=1001");
        await AssertSameAsync<ListAuditFunction>((f, r) => f.Run(r), "GET", "/admin/v1/audit", "?continuationToken=not-a-token");
        await AssertSameAsync<RevokeKeyFunction>((f, r) => f.Run(r, "NoSuchKey123"), "POST", "/admin/v1/keys/NoSuchKey123/revoke");
        Assert.Equal(200, (await _functions.InvokeAsync<ListKeysFunction>((f, r) => f.Run(r), "GET", "/admin/v1/keys", $"?customerId={customer}")).Status);
        Assert.Contains(keyId, (await _functions.InvokeAsync<ListKeysFunction>((f, r) => f.Run(r), "GET", "/admin/v1/keys", $"?customerId={customer}")).Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UsageAsCsv_AnswersTheSameBytesAndHeadersInBothHosts()
    {
        var customer = await Gateway.CreateCustomerAsync();
        var (_, key) = await Gateway.IssueKeyAsync(customer);
        (await Gateway.Data.SendAsync(TestGateway.Get("alpha/1", key))).Dispose();
        (await Gateway.Data.SendAsync(TestGateway.Get("beta/1", key))).Dispose();
        Assert.Equal(2, await StoredUsage.WaitForHourlyTotalAsync(Azurite, Gateway.TablePrefix, customer, 2, TimeSpan.FromSeconds(30)));
        var now = TestClock.Instance.GetUtcNow();
        var query = $"?customerId={customer}&granularity=month&from={now.AddDays(-1):yyyy-MM-dd}&to={now.AddDays(2):yyyy-MM-dd}";
        var csv = new Dictionary<string, string> { ["Accept"] = "text/csv" };

        using var request = new HttpRequestMessage(HttpMethod.Get, "admin/v1/usage" + query);
        request.Headers.Accept.ParseAdd("text/csv");
        using var gateway = await Gateway.Admin.SendAsync(request);
        var gatewayBody = await gateway.Content.ReadAsStringAsync();
        var function = await _functions.InvokeAsync<GetUsageFunction>((f, r) => f.Run(r), "GET", "/admin/v1/usage", query, headers: csv);

        Assert.Equal(200, function.Status);
        Assert.Equal(200, (int)gateway.StatusCode);
        Assert.Equal(gateway.Content.Headers.ContentType?.ToString(), function.ContentType);
        Assert.Equal(gateway.Content.Headers.ContentDisposition?.ToString(), function.Headers.ContentDisposition.ToString());
        Assert.StartsWith("start,routeGroup,statusClass,count\r\n", gatewayBody, StringComparison.Ordinal);
        Assert.Contains(",alpha,2xx,1\r\n", gatewayBody, StringComparison.Ordinal);
        Assert.Contains(",beta,2xx,1\r\n", gatewayBody, StringComparison.Ordinal);
        Assert.Equal(gatewayBody, function.Body);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-token-wrong-token")]
    public async Task WithoutTheAdminToken_BothHostsAnswer401Problem(string? token)
    {
        var (gateway, function) = await BothAsync<ListPlansFunction>((f, r) => f.Run(r), "GET", "/admin/v1/plans", token: token);

        Assert.Equal(401, function.Status);
        Assert.Equal(Normalize(await gateway.Content.ReadAsStringAsync()), Normalize(function.Body));
        Assert.Equal(gateway.Headers.WwwAuthenticate.ToString(), function.Headers.WWWAuthenticate.ToString());
    }

    [Theory]
    [InlineData("{", 400)]
    [InlineData("{\"name\": 5, \"email\": \"a@b.test\"}", 400)]
    [InlineData("{\"name\": \"Acme\", \"email\": \"not-an-email\"}", 400)]
    [InlineData("{\"name\": \"Acme\", \"email\": \"a@b.test\", \"nmae\": \"Acme\"}", 400)]
    public async Task CreateCustomer_WithBadInput_AnswersTheSameProblemInBothHosts(string json, int status)
    {
        var (gateway, function) = await BothAsync<CreateCustomerFunction>((f, r) => f.Run(r), "POST", "/admin/v1/customers", json: json);

        Assert.Equal(status, function.Status);
        Assert.Equal(Normalize(await gateway.Content.ReadAsStringAsync()), Normalize(function.Body));
    }

    [Theory]
    [InlineData("{\"email\": \"not-an-email\"}")]
    [InlineData("{}")]
    [InlineData("{\"name\": \"Acme\", \"nick\": \"A\"}")]
    public async Task UpdateCustomer_WithBadInput_AnswersTheSameProblemInBothHosts(string json)
    {
        var customer = await Gateway.CreateCustomerAsync();

        var (gateway, function) = await BothAsync<UpdateCustomerFunction>((f, r) => f.Run(r, customer), "PATCH", $"/admin/v1/customers/{customer}", json: json);

        Assert.Equal(400, function.Status);
        Assert.Equal(Normalize(await gateway.Content.ReadAsStringAsync()), Normalize(function.Body));
    }

    [Theory]
    [InlineData("{\"monthlyCap\": -1}", 400)]
    [InlineData("{\"monthlyCap\": 0.001}", 400)]
    [InlineData("{\"monthlyCap\": 42.5}", 200)]
    public async Task SetSpendCap_AnswersTheSameInBothHosts(string json, int status)
    {
        var customer = await Gateway.CreateCustomerAsync();

        var (gateway, function) = await BothAsync<SetSpendCapFunction>((f, r) => f.Run(r, customer), "PUT", $"/admin/v1/customers/{customer}/spend-cap", json: json);

        Assert.Equal((status, status), ((int)gateway.StatusCode, function.Status));
        Assert.Equal(Normalize(await gateway.Content.ReadAsStringAsync()), Normalize(function.Body));
    }

    [Theory]
    [InlineData("{\"overlap\": \"forever\"}")]
    [InlineData("{\"overlap\": 99999999}")]
    public async Task RotateKey_WithBadOverlap_AnswersTheSameProblemInBothHosts(string json)
    {
        var (keyId, _) = await Gateway.IssueKeyAsync(await Gateway.CreateCustomerAsync());

        var (gateway, function) = await BothAsync<RotateKeyFunction>((f, r) => f.Run(r, keyId), "POST", $"/admin/v1/keys/{keyId}/rotate", json: json);

        Assert.Equal(400, function.Status);
        Assert.Equal(Normalize(await gateway.Content.ReadAsStringAsync()), Normalize(function.Body));
    }

    [Fact]
    public async Task Mutations_AnswerTheSameShapeInBothHosts_AndLandInTheSameTables()
    {
        const string Body = """{"name":"Acme Data Ltd","email":"dev@acme.test"}""";
        var (gatewayCreated, functionCreated) = await BothAsync<CreateCustomerFunction>((f, r) => f.Run(r), "POST", "/admin/v1/customers", json: Body);
        var functionCustomer = JsonNode.Parse(functionCreated.Body)!["id"]!.GetValue<string>();
        var keyBody = $$"""{"customerId":"{{functionCustomer}}","plan":"open"}""";
        var (gatewayKey, functionKey) = await BothAsync<IssueKeyFunction>((f, r) => f.Run(r), "POST", "/admin/v1/keys", json: keyBody);
        var functionKeyId = JsonNode.Parse(functionKey.Body)!["id"]!.GetValue<string>();
        var suspended = await _functions.InvokeAsync<SuspendKeyFunction>((f, r) => f.Run(r, functionKeyId), "POST", $"/admin/v1/keys/{functionKeyId}/suspend");
        var listedByGateway = await Gateway.Admin.GetStringAsync($"admin/v1/keys?customerId={functionCustomer}");

        Assert.Equal(201, functionCreated.Status);
        Assert.Equal((int)gatewayCreated.StatusCode, functionCreated.Status);
        Assert.Equal(Shape(await gatewayCreated.Content.ReadAsStringAsync(), "id", "createdAt"), Shape(functionCreated.Body, "id", "createdAt"));
        Assert.Equal($"/admin/v1/customers/{functionCustomer}", functionCreated.Headers.Location.ToString());
        Assert.Equal(201, functionKey.Status);
        Assert.Equal(Shape(await gatewayKey.Content.ReadAsStringAsync(), "id", "key", "displayPrefix", "createdAt"), Shape(functionKey.Body, "id", "key", "displayPrefix", "createdAt"));
        Assert.Equal(200, suspended.Status);
        Assert.Contains("\"status\":\"suspended\"", listedByGateway, StringComparison.Ordinal);
    }

    private async Task AssertSameAsync<TFunction>(Func<TFunction, HttpRequest, Task<IResult>> run, string method, string path, string? query = null)
    {
        var (gateway, function) = await BothAsync(run, method, path, query);
        var gatewayBody = await gateway.Content.ReadAsStringAsync();

        Assert.True((int)gateway.StatusCode == function.Status, $"{method} {path}{query}: gateway {(int)gateway.StatusCode}, function {function.Status}: {function.Body}");
        Assert.Equal(gateway.Content.Headers.ContentType?.MediaType, function.ContentType?.Split(';')[0]);
        Assert.Equal(Normalize(gatewayBody), Normalize(function.Body));
    }

    private async Task<(HttpResponseMessage Gateway, FunctionResponse Function)> BothAsync<TFunction>(
        Func<TFunction, HttpRequest, Task<IResult>> run, string method, string path, string? query = null, string? json = null, string? token = TestGateway.AdminToken)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path.TrimStart('/') + query);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        using var anonymous = new HttpClient { BaseAddress = Gateway.Admin.BaseAddress };
        if (token is not null)
        {
            anonymous.DefaultRequestHeaders.Authorization = new("Bearer", token);
        }

        var gateway = await anonymous.SendAsync(request);
        await gateway.Content.LoadIntoBufferAsync();
        var function = await _functions.InvokeAsync(run, method, path, query, json, token);
        return (gateway, function);
    }

    /// <summary>The body without what differs per request by design (the problem's trace id).</summary>
    private static string Normalize(string body)
    {
        if (JsonNode.Parse(body) is JsonObject o)
        {
            o.Remove("traceId");
            return o.ToJsonString();
        }

        return JsonNode.Parse(body)!.ToJsonString();
    }

    /// <summary>The body without the fields each creation makes anew (ids, secrets, times).</summary>
    private static string Shape(string body, params string[] fresh)
    {
        var o = JsonNode.Parse(body)!.AsObject();
        foreach (var name in fresh)
        {
            Assert.True(o.ContainsKey(name), $"{name} missing from {body}");
            o.Remove(name);
        }

        // A key's licence is as of its creation.
        (o["licence"] as JsonObject)?.Remove("since");

        return o.ToJsonString();
    }
}
