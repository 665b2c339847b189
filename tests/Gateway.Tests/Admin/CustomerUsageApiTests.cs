using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Admin;

/// <summary>
/// <c>GET /admin/v1/usage/customers</c>: the usage overview, every listed customer's totals of a period in one answer,
/// against calls metered by the real gateway, and equal to what <c>GET /admin/v1/usage</c> answers per customer.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class CustomerUsageApiTests(Azurite azurite) : SharedGatewayTest(azurite)
{
    [Fact]
    public async Task CustomerUsage_AfterMeteredCalls_AnswersEachCustomersTotals_AsUsageDoes()
    {
        var tag = Guid.NewGuid().ToString("N")[..10];
        var busy = await Gateway.CreateCustomerAsync($"Busy {tag}");
        var quiet = await Gateway.CreateCustomerAsync($"Quiet {tag}");
        var idle = await Gateway.CreateCustomerAsync($"Idle {tag}");
        var (_, busyKey) = await Gateway.IssueKeyAsync(busy, "narrow");
        var (_, quietKey) = await Gateway.IssueKeyAsync(quiet);
        for (var i = 0; i < 3; i++)
        {
            await CallAsync("alpha/1", busyKey, 200);
        }

        await CallAsync("beta/1", busyKey, 403); // the narrow plan covers alpha only: a refusal, never billable
        await CallAsync("beta/1", busyKey, 403);
        await CallAsync("beta/2", quietKey, 200);

        var overview = await OverviewAsync($"?search={tag}");

        var items = overview.GetProperty("items").EnumerateArray().ToDictionary(i => i.GetProperty("customerId").GetString()!);
        Assert.Equal(new[] { busy, quiet, idle }.Order(StringComparer.Ordinal), items.Keys); // in id order, as customers are listed
        Assert.Equal((3, 2, 0), Totals(items[busy]));
        Assert.Equal((1, 0, 0), Totals(items[quiet]));
        Assert.Equal((0, 0, 0), Totals(items[idle]));
        Assert.Equal($"Busy {tag}", items[busy].GetProperty("name").GetString());
        foreach (var customer in new[] { busy, quiet, idle })
        {
            var usage = await Gateway.UsageAsync(customer);
            Assert.Equal(Totals(usage), Totals(items[customer]));
        }
    }

    [Fact]
    public async Task CustomerUsage_WithLimit_AnswersAPage_AndTheTokenTheNext()
    {
        var tag = Guid.NewGuid().ToString("N")[..10];
        var first = await Gateway.CreateCustomerAsync($"One {tag}");
        var second = await Gateway.CreateCustomerAsync($"Two {tag}");

        var page = await OverviewAsync($"?search={tag}&limit=1");
        var token = page.GetProperty("continuationToken").GetString();
        var next = await OverviewAsync($"?search={tag}&limit=1&continuationToken={token}");

        var ids = new[] { page, next }.SelectMany(p => p.GetProperty("items").EnumerateArray()).Select(i => i.GetProperty("customerId").GetString()).ToList();
        Assert.Equal(new[] { first, second }.Order(StringComparer.Ordinal), ids);
        Assert.Equal(JsonValueKind.Null, next.GetProperty("continuationToken").ValueKind);
    }

    [Fact]
    public async Task CustomerUsage_WithPeriod_EchoesIt_AndCountsNothingOutsideIt()
    {
        var tag = Guid.NewGuid().ToString("N")[..10];
        var customer = await Gateway.CreateCustomerAsync($"Past {tag}");
        var (_, key) = await Gateway.IssueKeyAsync(customer);
        await CallAsync("alpha/1", key, 200);

        var past = await OverviewAsync($"?search={tag}&from=2026-01-01&to=2026-02-01");

        Assert.Equal(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture), past.GetProperty("from").GetDateTimeOffset());
        Assert.Equal(DateTimeOffset.Parse("2026-02-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture), past.GetProperty("to").GetDateTimeOffset());
        Assert.Equal((0, 0, 0), Totals(Assert.Single(past.GetProperty("items").EnumerateArray())));
    }

    [Theory]
    [InlineData("?from=2026-02-01&to=2026-01-01", "to")]
    [InlineData("?from=2024-01-01&to=2026-01-01", "to")]
    [InlineData("?from=yesterday", "from")]
    [InlineData("?limit=0", "limit")]
    [InlineData("?continuationToken=nonsense", "continuationToken")]
    public async Task CustomerUsage_WithBadQuery_Returns400NamingTheField(string query, string field)
    {
        using var response = await Gateway.Admin.GetAsync($"admin/v1/usage/customers{query}");

        var problem = await Problems.AssertAsync(response, 400, "urn:gateway:problem:invalid-request");
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    private async Task CallAsync(string path, string key, int status)
    {
        using var response = await Gateway.Data.SendAsync(TestGateway.Get(path, key));
        Assert.Equal(status, (int)response.StatusCode);
    }

    private async Task<JsonElement> OverviewAsync(string query)
    {
        using var response = await Gateway.Admin.GetAsync($"admin/v1/usage/customers{query}");
        Assert.Equal(200, (int)response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static (long Total, long Rejected, long GatewayErrors) Totals(JsonElement e) =>
        (e.GetProperty("total").GetInt64(), e.GetProperty("rejected").GetInt64(), e.GetProperty("gatewayErrors").GetInt64());
}
