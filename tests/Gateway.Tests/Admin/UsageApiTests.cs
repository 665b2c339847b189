using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using Gateway.Core.Usage;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Admin;

/// <summary>
/// <c>GET /admin/v1/usage</c>: month buckets (UTC), the route-group filter and CSV export, over usage rows written to
/// the real usage table as the flush writes them.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class UsageApiTests(Azurite azurite) : SharedGatewayTest(azurite)
{
    private const string Writer = "seeded-writer";

    [Fact]
    public async Task Usage_ByMonth_SumsEachUtcMonth_AcrossTheMonthBoundary()
    {
        var (customer, key) = await SeedAsync();

        var usage = await Gateway.UsageAsync(customer, "&from=2026-10-01&to=2026-12-01&granularity=month");

        Assert.Equal("month", usage.GetProperty("granularity").GetString());
        Assert.Equal(
            ["2026-10-01T00:00:00+00:00 alpha 2xx 5", "2026-10-01T00:00:00+00:00 beta 2xx 7", "2026-11-01T00:00:00+00:00 alpha 2xx 11", "2026-11-01T00:00:00+00:00 alpha 5xx 2"],
            Buckets(usage));
        // The 5xx are upstream answers the default billable set leaves out.
        Assert.Equal(23, usage.GetProperty("total").GetInt64());
        Assert.Equal(2, usage.GetProperty("upstreamNotBilled").GetInt64());
        Assert.Equal(key, (await Gateway.UsageAsync(customer, $"&keyId={key}&from=2026-10-01&to=2026-12-01&granularity=month")).GetProperty("keyId").GetString());
    }

    [Fact]
    public async Task Usage_ByRouteGroup_CountsOnlyThatGroup_AndAnUnknownGroupNothing()
    {
        var (customer, _) = await SeedAsync();

        var alpha = await Gateway.UsageAsync(customer, "&routeGroup=alpha&from=2026-10-01&to=2026-12-01&granularity=month");
        var unknown = await Gateway.UsageAsync(customer, "&routeGroup=retired&from=2026-10-01&to=2026-12-01");

        Assert.Equal("alpha", alpha.GetProperty("routeGroup").GetString());
        Assert.Equal(
            ["2026-10-01T00:00:00+00:00 alpha 2xx 5", "2026-11-01T00:00:00+00:00 alpha 2xx 11", "2026-11-01T00:00:00+00:00 alpha 5xx 2"],
            Buckets(alpha));
        Assert.Equal(16, alpha.GetProperty("total").GetInt64());
        Assert.Empty(unknown.GetProperty("buckets").EnumerateArray());
        Assert.Equal(0, unknown.GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task Usage_AsCsv_HasAHeaderRowAndOneRowPerBucket_AsAnAttachment()
    {
        var (customer, _) = await SeedAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"admin/v1/usage?customerId={customer}&from=2026-10-01&to=2026-12-01&granularity=month");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/csv"));

        using var response = await Gateway.Admin.SendAsync(request);
        var csv = await response.Content.ReadAsStringAsync();

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal($"usage-{customer}-20261001T0000Z-20261201T0000Z.csv", response.Content.Headers.ContentDisposition?.FileNameStar ?? response.Content.Headers.ContentDisposition?.FileName);
        Assert.Equal(
            "start,routeGroup,statusClass,count\r\n"
            + "2026-10-01T00:00:00Z,alpha,2xx,5\r\n"
            + "2026-10-01T00:00:00Z,beta,2xx,7\r\n"
            + "2026-11-01T00:00:00Z,alpha,2xx,11\r\n"
            + "2026-11-01T00:00:00Z,alpha,5xx,2\r\n",
            csv);
    }

    [Theory]
    [InlineData("application/json", "application/json")]
    [InlineData("application/json, text/csv;q=0.5", "application/json")]
    [InlineData("text/csv;q=0.9, application/json;q=0.1", "text/csv")]
    [InlineData("text/csv, */*", "text/csv")]
    [InlineData("text/csv;q=0", "application/json")]
    public async Task Usage_ChoosesCsvOnlyWhenAcceptRanksItFirst(string accept, string mediaType)
    {
        var customer = await Gateway.CreateCustomerAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"admin/v1/usage?customerId={customer}");
        request.Headers.TryAddWithoutValidation("Accept", accept);

        using var response = await Gateway.Admin.SendAsync(request);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Usage_AsCsv_WithBadQuery_AnswersAProblem_NotCsv()
    {
        var customer = await Gateway.CreateCustomerAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"admin/v1/usage?customerId={customer}&granularity=week");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/csv"));

        using var response = await Gateway.Admin.SendAsync(request);

        var problem = await Problems.AssertAsync(response, 400, "urn:gateway:problem:invalid-request");
        Assert.True(problem.GetProperty("errors").TryGetProperty("granularity", out _));
    }

    [Theory]
    [InlineData("%20alpha")]
    [InlineData("al%0Apha")]
    public async Task Usage_WithBadRouteGroup_Returns400NamingIt(string routeGroup)
    {
        var customer = await Gateway.CreateCustomerAsync();

        using var response = await Gateway.Admin.GetAsync($"admin/v1/usage?customerId={customer}&routeGroup={routeGroup}");

        var problem = await Problems.AssertAsync(response, 400, "urn:gateway:problem:invalid-request");
        Assert.True(problem.GetProperty("errors").TryGetProperty("routeGroup", out _), problem.ToString());
    }

    [Fact]
    public async Task Usage_WithTooLongRouteGroup_Returns400NamingIt()
    {
        var customer = await Gateway.CreateCustomerAsync();

        using var response = await Gateway.Admin.GetAsync($"admin/v1/usage?customerId={customer}&routeGroup={new string('a', UsageReporter.MaxRouteGroupLength + 1)}");

        var problem = await Problems.AssertAsync(response, 400, "urn:gateway:problem:invalid-request");
        Assert.True(problem.GetProperty("errors").TryGetProperty("routeGroup", out _), problem.ToString());
    }

    /// <summary>
    /// A customer with one key and hourly rows, as a flush writes them: October (alpha 2xx 2+3 on two days, beta 2xx 7
    /// in the last hour of the month) and November (alpha 2xx 11 in the first hour, alpha 5xx 2).
    /// </summary>
    private async Task<(string Customer, string Key)> SeedAsync()
    {
        var customer = await Gateway.CreateCustomerAsync();
        var (key, _) = await Gateway.IssueKeyAsync(customer);
        var table = new TableClient(Azurite.ConnectionString, Gateway.TablePrefix + "Usage");
        await table.CreateIfNotExistsAsync();
        UsageCount Count(string at, string group, CallOutcome outcome, long count) =>
            new(new UsageCell(customer, key, group, UsageCalendar.HourOf(DateTimeOffset.Parse(at, System.Globalization.CultureInfo.InvariantCulture)), outcome), Writer, count);
        foreach (var count in new[]
        {
            Count("2026-10-03T10:00:00Z", "alpha", CallOutcome.Status2xx, 2),
            Count("2026-10-17T00:00:00Z", "alpha", CallOutcome.Status2xx, 3),
            Count("2026-10-31T23:00:00Z", "beta", CallOutcome.Status2xx, 7),
            Count("2026-11-01T00:00:00Z", "alpha", CallOutcome.Status2xx, 11),
            Count("2026-11-20T12:00:00Z", "alpha", CallOutcome.Status5xx, 2),
        })
        {
            await table.UpsertEntityAsync(UsageTable.HourRow(count));
        }

        return (customer, key);
    }

    private static List<string> Buckets(JsonElement usage) =>
        [.. usage.GetProperty("buckets").EnumerateArray().Select(b =>
            $"{b.GetProperty("start").GetDateTimeOffset():yyyy-MM-ddTHH:mm:sszzz} {b.GetProperty("routeGroup").GetString()} {b.GetProperty("statusClass").GetString()} {b.GetProperty("count").GetInt64()}")];
}
