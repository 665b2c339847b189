using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Compliance;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Compliance;

/// <summary>
/// The compliance report of a customer and month: what real calls through the gateway left in the ledger, the
/// evidence and the flags, with the review decisions, as JSON and as the two CSV tables.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class ComplianceReportTests(Azurite azurite) : SharedGatewayTest(azurite)
{
    private static readonly string Period = TestClock.RunStart.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);

    protected override void Settings(Dictionary<string, string?> settings)
    {
        settings["Gateway:Compliance:FlushInterval"] = "01:00:00";
        settings["Gateway:Compliance:Plans:narrow:Detection:UnlicensedRouteAttempts"] = "2";
    }

    [Fact]
    public async Task Report_OfAMonth_HoldsEachKeysUsageQuotaLicenceEvidence_AndTheFlagsWithTheirDecisions()
    {
        var customer = await Gateway.CreateCustomerAsync("Reported Ltd");
        var (flagged, flaggedKey) = await Gateway.IssueKeyAsync(customer, "narrow");
        var (quiet, quietKey) = await Gateway.IssueKeyAsync(customer, "open");
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await StatusAsync($"alpha/{i}", flaggedKey));
        }

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync($"beta/{i}", flaggedKey));
        }

        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await StatusAsync($"beta/{i}", quietKey));
        }

        await FlushEvidenceAsync((flagged, 4), (quiet, 2));
        var flag = Assert.Single(await Gateway.Services.GetRequiredService<ComplianceScan>().RunAsync(default), f => f.KeyId == flagged);
        using (var acknowledged = await Gateway.Admin.PostAsJsonAsync($"admin/v1/compliance/flags/{flag.Id}/review", new { status = "acknowledged", note = "asked the customer why" }))
        {
            Assert.Equal(HttpStatusCode.OK, acknowledged.StatusCode);
        }

        var report = await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/compliance/reports/{customer}?period={Period}");

        Assert.Equal("Reported Ltd", report.GetProperty("customer").GetProperty("name").GetString());
        Assert.Equal(Period, report.GetProperty("period").GetString());
        Assert.Equal(6, report.GetProperty("totals").GetProperty("billable").GetInt64());
        Assert.Equal(3, report.GetProperty("totals").GetProperty("rejected").GetInt64());

        var keys = report.GetProperty("keys").EnumerateArray().ToDictionary(k => k.GetProperty("keyId").GetString()!);
        Assert.Equal(new[] { flagged, quiet }.Order(StringComparer.Ordinal), keys.Keys.Order(StringComparer.Ordinal));
        var narrow = keys[flagged];
        Assert.Equal(4, narrow.GetProperty("calls").GetProperty("billable").GetInt64());
        Assert.Equal(3, narrow.GetProperty("calls").GetProperty("rejected").GetInt64());
        Assert.Equal(4, narrow.GetProperty("quota").GetProperty("used").GetInt64());
        Assert.True(narrow.GetProperty("quota").GetProperty("included").GetInt64() > 0);
        var licence = Assert.Single(narrow.GetProperty("licences").EnumerateArray());
        Assert.Equal(1, licence.GetProperty("version").GetInt32());
        Assert.Equal("display", licence.GetProperty("purpose").GetString());
        var evidence = narrow.GetProperty("evidence");
        Assert.Equal(4, evidence.GetProperty("calls").GetInt64());
        Assert.Equal(3, evidence.GetProperty("unlicensedRouteAttempts").GetInt64());
        Assert.Equal(1, evidence.GetProperty("hoursActive").GetInt32());
        Assert.Equal(1, evidence.GetProperty("distinctNetworks").GetInt32());
        Assert.Equal(0, evidence.GetProperty("recordsDelivered").GetInt64()); // no record-id path on these routes
        Assert.Equal(0, evidence.GetProperty("distinctRecords").GetInt64());
        Assert.Equal(2, keys[quiet].GetProperty("calls").GetProperty("billable").GetInt64());
        Assert.Equal(2, keys[quiet].GetProperty("quota").GetProperty("used").GetInt64());
        Assert.Equal(2, keys[quiet].GetProperty("evidence").GetProperty("calls").GetInt64());
        Assert.Equal(0, keys[quiet].GetProperty("evidence").GetProperty("unlicensedRouteAttempts").GetInt64());

        var daily = report.GetProperty("daily").EnumerateArray().ToList();
        Assert.Equal(4, daily.Where(d => d.GetProperty("keyId").GetString() == flagged && d.GetProperty("routeGroup").GetString() == "alpha").Sum(d => d.GetProperty("count").GetInt64()));
        Assert.Equal(3, daily.Where(d => d.GetProperty("statusClass").GetString() == "rejected-route-not-in-plan").Sum(d => d.GetProperty("count").GetInt64()));
        Assert.All(daily, d => Assert.Equal(TestClock.RunStart.UtcDateTime.Date, DateTime.Parse(d.GetProperty("day").GetString()!, System.Globalization.CultureInfo.InvariantCulture)));

        var reported = Assert.Single(report.GetProperty("flags").EnumerateArray());
        Assert.Equal(flag.Id, reported.GetProperty("flag").GetProperty("id").GetString());
        Assert.Equal("acknowledged", reported.GetProperty("flag").GetProperty("status").GetString());
        Assert.Contains("asked the customer why", Assert.Single(reported.GetProperty("decisions").EnumerateArray()).GetProperty("summary").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReportCsv_UsageRowsAddUpToTheReport_AndTheFlagsTableCarriesEvidenceAndDecisions()
    {
        var customer = await Gateway.CreateCustomerAsync("Exported Ltd");
        var (flagged, key) = await Gateway.IssueKeyAsync(customer, "narrow");
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await StatusAsync($"alpha/{i}", key));
            Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync($"beta/{i}", key));
        }

        await FlushEvidenceAsync((flagged, 3));
        var flag = Assert.Single(await Gateway.Services.GetRequiredService<ComplianceScan>().RunAsync(default), f => f.KeyId == flagged);
        using (var acknowledged = await Gateway.Admin.PostAsJsonAsync($"admin/v1/compliance/flags/{flag.Id}/review", new { status = "acknowledged", note = "first look, nothing decided" }))
        {
            Assert.Equal(HttpStatusCode.OK, acknowledged.StatusCode);
        }

        using var usage = await Gateway.Admin.GetAsync($"admin/v1/compliance/reports/{customer}?period={Period}&format=csv&table=usage");
        using var flags = await Gateway.Admin.GetAsync($"admin/v1/compliance/reports/{customer}?period={Period}&format=csv&table=flags");

        Assert.Equal(HttpStatusCode.OK, usage.StatusCode);
        Assert.Equal("text/csv", usage.Content.Headers.ContentType?.MediaType);
        Assert.Equal($"compliance-{customer}-{Period}-usage.csv", usage.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        var usageRows = Lines(await usage.Content.ReadAsStringAsync());
        Assert.Equal("day,keyId,routeGroup,statusClass,count", usageRows[0]);
        var counts = usageRows.Skip(1).Select(r => r.Split(',')).ToList();
        Assert.Equal(3, counts.Where(c => c[2] == "alpha" && c[3] == "2xx").Sum(c => long.Parse(c[4], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(3, counts.Where(c => c[3] == "rejected-route-not-in-plan").Sum(c => long.Parse(c[4], System.Globalization.CultureInfo.InvariantCulture)));

        var flagsText = await flags.Content.ReadAsStringAsync();
        var flagRows = Lines(flagsText);
        Assert.StartsWith("id,kind,severity,keyId,from,to,status,purpose,licenceVersion,evidence,summary,decisions", flagRows[0], StringComparison.Ordinal);
        Assert.Equal(2, flagRows.Count);
        Assert.StartsWith($"{flag.Id},unlicensed_route,", flagRows[1], StringComparison.Ordinal);
        Assert.Contains("attempts=3", flagRows[1], StringComparison.Ordinal);
        Assert.Contains("open → acknowledged: first look, nothing decided", flagRows[1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("?period=2030-13", "period")]
    [InlineData("?period=June", "period")]
    [InlineData("?format=xml", "format")]
    [InlineData("?format=csv", "table")]
    [InlineData("?format=csv&table=keys", "table")]
    [InlineData("?table=usage", "table")]
    public async Task Report_WithBadParameters_Is400_NamingTheParameter(string query, string parameter)
    {
        var customer = await Gateway.CreateCustomerAsync();

        using var response = await Gateway.Admin.GetAsync($"admin/v1/compliance/reports/{customer}{query}");

        var problem = await Problems.AssertAsync(response, 400, "urn:gateway:problem:invalid-request");
        Assert.True(problem.GetProperty("errors").TryGetProperty(parameter, out _), problem.ToString());
    }

    [Fact]
    public async Task Report_OfAnUnknownCustomer_Is404_AndOfAMonthBeforeItsKeys_ListsNoKeyAndNoCall()
    {
        var customer = await Gateway.CreateCustomerAsync();
        var (_, key) = await Gateway.IssueKeyAsync(customer, "open");
        Assert.Equal(HttpStatusCode.OK, await StatusAsync("alpha/1", key));

        using var unknown = await Gateway.Admin.GetAsync("admin/v1/compliance/reports/cus_doesnotexist0000?period=2030-06");
        var before = await Gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/compliance/reports/{customer}?period=2030-05");

        await Problems.AssertAsync(unknown, 404, "urn:gateway:problem:not-found");
        Assert.Empty(before.GetProperty("keys").EnumerateArray());
        Assert.Empty(before.GetProperty("daily").EnumerateArray());
        Assert.Equal(0, before.GetProperty("totals").GetProperty("billable").GetInt64());
    }

    private async Task<HttpStatusCode> StatusAsync(string path, string key)
    {
        using var response = await Gateway.Data.SendAsync(TestGateway.Get(path, key));
        return response.StatusCode;
    }

    /// <summary>
    /// Evidence is recorded once a call's answer is complete, which the client may see a moment before: wait until the
    /// recorder holds each key's calls (at most 10 s), then flush.
    /// </summary>
    private async Task FlushEvidenceAsync(params (string KeyId, long Calls)[] expected)
    {
        var recorder = Gateway.Services.GetRequiredService<EvidenceRecorder>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (expected.Any(e => recorder.Cells.Where(c => c.KeyId == e.KeyId).Sum(c => c.Snapshot().Evidence.Calls) < e.Calls) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        await recorder.FlushAsync(default);
    }

    private static List<string> Lines(string csv) => [.. csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries)];
}
