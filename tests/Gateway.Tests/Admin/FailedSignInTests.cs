using System.Net.Http.Headers;
using System.Text.Json;
using Gateway.Functions.Admin;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Admin;

/// <summary>
/// Failed sign-ins are audited without the credential and limited per source address: past the limit, any token from
/// that address is refused with 429 <c>too-many-sign-ins</c> and <c>Retry-After</c>, unchecked; successful sign-ins
/// never count. Both hosts refuse the same way.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class FailedSignInTests(Azurite azurite) : GatewayTest(azurite)
{
    private const int Limit = 3;
    private const string ForgedJwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtYWxsb3J5In0.c2lnbmF0dXJl";

    [Fact]
    public async Task FailedSignIns_BeyondTheLimit_Return429WithRetryAfter_AndSuccessesNeverCount()
    {
        await using var gateway = await StartGatewayAsync(s => s["Gateway:SignIn:FailedSignInsPerMinute"] = $"{Limit}");
        var customer = await gateway.CreateCustomerAsync();
        var (_, apiKey) = await gateway.IssueKeyAsync(customer);

        var successes = new List<int>();
        for (var i = 0; i < Limit * 5; i++)
        {
            successes.Add(await StatusAsync(gateway, TestGateway.AdminToken));
        }

        var failures = new List<int>();
        for (var i = 0; i < Limit; i++)
        {
            failures.Add(await StatusAsync(gateway, $"guessed-admin-token-{i:D3}"));
        }

        using var lockedOut = await SendAsync(gateway, "guessed-admin-token-999");
        using var lockedOutJwt = await SendAsync(gateway, ForgedJwt);
        using var lockedOutRightToken = await SendAsync(gateway, TestGateway.AdminToken);
        using var withoutToken = await SendAsync(gateway, token: null);
        using var dataPlane = await gateway.Data.SendAsync(TestGateway.Get("alpha/1", apiKey));

        Assert.All(successes, s => Assert.Equal(200, s));
        Assert.All(failures, s => Assert.Equal(401, s));
        foreach (var response in new[] { lockedOut, lockedOutJwt, lockedOutRightToken })
        {
            await Problems.AssertAsync(response, 429, "urn:gateway:problem:too-many-sign-ins");
            var retryAfter = int.Parse(response.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(retryAfter, 1, 60);
        }

        await Problems.AssertAsync(withoutToken, 401, "urn:gateway:problem:admin-unauthorized");
        Assert.Equal(200, (int)dataPlane.StatusCode);
    }

    [Fact]
    public async Task FailedSignIns_AreAudited_WithoutTheCredential_AndLockedOutAttemptsAreNotChecked()
    {
        await using var gateway = await StartGatewayAsync(s => s["Gateway:SignIn:FailedSignInsPerMinute"] = $"{Limit}");
        await StatusAsync(gateway, "guessed-admin-token-aaa");
        await StatusAsync(gateway, ForgedJwt);
        await StatusAsync(gateway, "guessed-admin-token-bbb");
        await StatusAsync(gateway, "guessed-admin-token-ccc");

        // The audit read comes from another address's view: the lockout is per address, so read the table directly.
        var log = await AuditTableAsync(gateway);

        var failed = log.Where(e => e.Action == "sign-in.failed").ToList();
        Assert.True(Limit == failed.Count, string.Join("\n", failed));
        Assert.Equal(["AdminToken", "RoleToken", "AdminToken"], failed.Select(e => e.Summary.Split(':')[0]));
        Assert.All(failed, e => Assert.Equal("127.0.0.1", e.Source));
        var text = string.Join("\n", log.Select(e => e.ToString()));
        Assert.DoesNotContain("guessed-admin-token", text, StringComparison.Ordinal);
        Assert.DoesNotContain(ForgedJwt, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FunctionApp_AfterTheLimit_AnswersTheSame429()
    {
        await using var gateway = await StartGatewayAsync(s => s["Gateway:SignIn:FailedSignInsPerMinute"] = $"{Limit}");
        var settings = TestGateway.DefaultSettings(Azurite, Upstream, gateway.TablePrefix);
        settings["Gateway:SignIn:FailedSignInsPerMinute"] = $"{Limit}";
        var functions = new FunctionHost(settings);
        try
        {
            var statuses = new List<int>();
            for (var i = 0; i < Limit; i++)
            {
                statuses.Add((await functions.InvokeAsync<ListPlansFunction>((f, r) => f.Run(r), "GET", "/admin/v1/plans", token: $"guessed-{i}")).Status);
            }

            var refused = await functions.InvokeAsync<ListPlansFunction>((f, r) => f.Run(r), "GET", "/admin/v1/plans", token: TestGateway.AdminToken);

            Assert.All(statuses, s => Assert.Equal(401, s));
            Assert.Equal(429, refused.Status);
            Assert.Equal("application/problem+json", refused.ContentType);
            Assert.Equal("urn:gateway:problem:too-many-sign-ins", JsonDocument.Parse(refused.Body).RootElement.GetProperty("type").GetString());
            Assert.True(int.Parse(refused.Headers.RetryAfter.ToString(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        }
        finally
        {
            await functions.StopAsync();
        }
    }

    [Fact]
    public async Task FailedSignIns_AllAtOnce_EachTakesOnePermit_SoTheLimitHoldsExactly()
    {
        // The ordering rule: concurrent failures never lose a charge. Exactly the limit's worth of failures, released
        // together, all get checked (401: none finds the permits gone before its own was taken), and the next attempt
        // finds none left (429). A lost charge would let it through.
        const int Concurrent = 40;
        await using var gateway = await StartGatewayAsync(s => s["Gateway:SignIn:FailedSignInsPerMinute"] = $"{Concurrent}");
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var attempts = Enumerable.Range(0, Concurrent).Select(async i =>
        {
            await start.Task;
            return await StatusAsync(gateway, $"guessed-admin-token-{i:D3}");
        }).ToList();

        start.SetResult();
        var statuses = await Task.WhenAll(attempts);
        using var next = await SendAsync(gateway, "guessed-admin-token-next");

        Assert.All(statuses, s => Assert.Equal(401, s));
        await Problems.AssertAsync(next, 429, "urn:gateway:problem:too-many-sign-ins");
    }

    private static async Task<int> StatusAsync(TestGateway gateway, string? token)
    {
        using var response = await SendAsync(gateway, token);
        return (int)response.StatusCode;
    }

    private static async Task<HttpResponseMessage> SendAsync(TestGateway gateway, string? token)
    {
        using var client = new HttpClient { BaseAddress = gateway.Admin.BaseAddress };
        client.DefaultRequestHeaders.Authorization = token is null ? null : new AuthenticationHeaderValue("Bearer", token);
        var response = await client.GetAsync("admin/v1/plans");
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    private async Task<List<Gateway.ControlPlane.Audit.AuditEntry>> AuditTableAsync(TestGateway gateway)
    {
        var table = new Azure.Data.Tables.TableClient(Azurite.ConnectionString, gateway.TablePrefix + "Audit");
        var entries = new List<Gateway.ControlPlane.Audit.AuditEntry>();
        await foreach (var e in table.QueryAsync<Azure.Data.Tables.TableEntity>())
        {
            entries.Add(new(e.GetDateTimeOffset("Time") ?? default, e.GetString("Actor"), e.GetString("Role"), e.GetString("Action"), e.GetString("Target"), e.GetString("Source"), e.GetString("Summary")));
        }

        return [.. entries.OrderBy(e => e.Time)];
    }
}
