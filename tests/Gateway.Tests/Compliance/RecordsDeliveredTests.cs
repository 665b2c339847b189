using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Gateway.Compliance;
using Gateway.Core.Problems;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Compliance;

/// <summary>
/// Records delivered, through the real gateway from a real Kestrel upstream that writes JSON pages in pieces (an id
/// split across pieces included): counted per key and hour, distinct records estimated, the key-day Bloom filter
/// answering the lookup, the daily record cap; other responses passed through unread and untouched.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class RecordsDeliveredTests(Azurite azurite) : GatewayTest(azurite)
{
    private JsonPages _pages = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _pages = await JsonPages.StartAsync();
    }

    public override async Task DisposeAsync()
    {
        await _pages.DisposeAsync();
        await base.DisposeAsync();
    }

    [Fact]
    public async Task JsonPages_InChunkSplits_CountEveryRecord_EstimateTheDistinct_AndReachTheClientUnchanged()
    {
        await using var gateway = await StartAsync();
        var customer = await gateway.CreateCustomerAsync();
        var (id, key) = await gateway.IssueKeyAsync(customer);

        // Six pages of 50 records, ids 0-199 (pages overlap): 300 delivered, 200 distinct. Splits inside an id string,
        // between tokens, and one byte at a time at the start.
        int[] firsts = [0, 50, 100, 150, 25, 75];
        string[] splits = ["13", "14,15,16,17,18,19", "100,101,700,1400", "", "1,2,3,4,5", "2000"];
        for (var i = 0; i < firsts.Length; i++)
        {
            var expected = RecordIdReaderTests.TypicalBody(50, firsts[i]);
            using var response = await gateway.Data.SendAsync(TestGateway.Get($"records/page?first={firsts[i]}&count=50&split={splits[i]}", key));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(expected, await response.Content.ReadAsStringAsync());
        }

        var hour = await StoredHourAsync(gateway, id);
        Assert.Equal(300, hour.Records);
        var distinct = hour.DistinctRecords!.Estimate();
        Assert.InRange(distinct, 200 * (1 - (3 * RecordSketch.StandardError)), 200 * (1 + (3 * RecordSketch.StandardError)));
    }

    [Fact]
    public async Task Lookup_FindsTheKeyThatReceivedARecord_AndNoKeyForOneNeverDelivered()
    {
        await using var gateway = await StartAsync();
        var customer = await gateway.CreateCustomerAsync();
        var (receiver, key) = await gateway.IssueKeyAsync(customer);
        var (other, otherKey) = await gateway.IssueKeyAsync(customer);
        (await gateway.Data.SendAsync(TestGateway.Get("records/page?first=0&count=40&split=333", key))).EnsureSuccessStatusCode();
        (await gateway.Data.SendAsync(TestGateway.Get("records/page?first=1000&count=40", otherKey))).EnsureSuccessStatusCode();
        await gateway.Services.GetRequiredService<EvidenceRecorder>().FlushAsync(default);
        var day = TestClock.Instance.GetUtcNow().ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

        var found = await gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/compliance/lookup?recordId=post-000017&day={day}");
        var item = Assert.Single(found.GetProperty("items").EnumerateArray());
        Assert.Equal((receiver, customer, "probably received"), (item.GetProperty("keyId").GetString(), item.GetProperty("customerId").GetString(), item.GetProperty("answer").GetString()));
        Assert.Equal(40, item.GetProperty("recordsThatDay").GetInt64());
        Assert.InRange(item.GetProperty("falsePositiveRate").GetDouble(), 0, RecordFilter.StatedFalsePositiveRate);
        Assert.Equal(RecordFilter.StatedFalsePositiveRate, found.GetProperty("statedFalsePositiveRate").GetDouble());

        var never = await gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/compliance/lookup?recordId=post-000500&day={day}");
        Assert.Empty(never.GetProperty("items").EnumerateArray());
        var otherDay = await gateway.Admin.GetFromJsonAsync<JsonElement>("admin/v1/compliance/lookup?recordId=post-000017&day=2030-06-14");
        Assert.Empty(otherDay.GetProperty("items").EnumerateArray());
        Assert.NotEqual(receiver, other);

        await Problems.AssertAsync(await gateway.Admin.GetAsync($"admin/v1/compliance/lookup?recordId=post-1&day=15-06-2030"), 400, ProblemTypes.InvalidRequest);
        await Problems.AssertAsync(await gateway.Admin.GetAsync($"admin/v1/compliance/lookup?day={day}"), 400, ProblemTypes.InvalidRequest);
    }

    [Fact]
    public async Task NonJson_Non2xx_AndMalformedJson_AreNotCounted_ArePassedThroughUntouched_AndMalformedIsLoggedOnce()
    {
        var logs = new CapturedLogs();
        await using var gateway = await StartAsync(services: s => s.AddSingleton<ILoggerProvider>(logs));
        var customer = await gateway.CreateCustomerAsync();
        var (id, key) = await gateway.IssueKeyAsync(customer);

        using (var text = await gateway.Data.SendAsync(TestGateway.Get("records/page?first=0&count=10&type=text/plain", key)))
        {
            Assert.Equal(RecordIdReaderTests.TypicalBody(10), await text.Content.ReadAsStringAsync());
        }

        using (var missing = await gateway.Data.SendAsync(TestGateway.Get("records/page?first=0&count=10&status=404", key)))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            Assert.Equal(RecordIdReaderTests.TypicalBody(10), await missing.Content.ReadAsStringAsync());
        }

        using (var broken = await gateway.Data.SendAsync(TestGateway.Get("records/malformed?split=30", key)))
        {
            Assert.Equal(HttpStatusCode.OK, broken.StatusCode);
            Assert.Equal(JsonPages.Malformed, await broken.Content.ReadAsStringAsync());
        }

        // Only the malformed page's two ids before the fault were read.
        var hour = await StoredHourAsync(gateway, id);
        Assert.Equal((3, 2), (hour.Calls, hour.Records));
        Assert.Single(logs.Entries, e => e.Contains("is not valid JSON", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DailyRecordCap_OnceReached_RefusesWith429UntilTheNextUtcMidnight_NotBilled_AndTheCrossingResponseIsWhole()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2030, 6, 15, 23, 0, 0, TimeSpan.Zero));
        await using var gateway = await StartAsync(s => s["Gateway:Compliance:Plans:open:DailyRecordCap"] = "100", s => s.AddSingleton<TimeProvider>(time));
        var customer = await gateway.CreateCustomerAsync();
        var (_, key) = await gateway.IssueKeyAsync(customer);

        (await gateway.Data.SendAsync(TestGateway.Get("records/page?first=0&count=60", key))).EnsureSuccessStatusCode();
        using (var crossing = await gateway.Data.SendAsync(TestGateway.Get("records/page?first=60&count=60&split=500", key)))
        {
            // 120 of 100: the response that crosses the cap is delivered in full.
            Assert.Equal(RecordIdReaderTests.TypicalBody(60, 60), await crossing.Content.ReadAsStringAsync());
        }

        time.Advance(TimeSpan.FromMinutes(20));
        var refused = await gateway.Data.SendAsync(TestGateway.Get("records/page?first=120&count=60", key));
        await Problems.AssertAsync(refused, 429, ProblemTypes.RecordCapReached);
        Assert.Equal(TimeSpan.FromMinutes(40), refused.Headers.RetryAfter?.Delta);
        // Refused on every route of the key, not only the records routes: the cap is the licence's.
        await Problems.AssertAsync(await gateway.Data.SendAsync(TestGateway.Get("alpha/1", key)), 429, ProblemTypes.RecordCapReached);

        time.Advance(TimeSpan.FromMinutes(40));
        (await gateway.Data.SendAsync(TestGateway.Get("records/page?first=120&count=60", key))).EnsureSuccessStatusCode();

        var usage = await gateway.UsageAsync(customer);
        Assert.Equal(3, usage.GetProperty("total").GetInt64());
        Assert.Equal(2, usage.GetProperty("rejected").GetInt64());
        Assert.Contains(usage.GetProperty("buckets").EnumerateArray(), b => b.GetProperty("statusClass").GetString() == "rejected-record-cap");
    }

    private static async Task<HourEvidence> StoredHourAsync(TestGateway gateway, string keyId)
    {
        await gateway.Services.GetRequiredService<EvidenceRecorder>().FlushAsync(default);
        var stored = await gateway.Services.GetRequiredService<EvidenceTable>().ReadAsync(0, default);
        return Assert.Single(Assert.Single(stored, e => e.KeyId == keyId).Hours);
    }

    private Task<TestGateway> StartAsync(Action<Dictionary<string, string?>>? settings = null, Action<IServiceCollection>? services = null) =>
        StartGatewayAsync(
            s =>
            {
                s["Gateway:Compliance:FlushInterval"] = "01:00:00";
                s["ReverseProxy:Routes:records:ClusterId"] = "pages";
                s["ReverseProxy:Routes:records:Match:Path"] = "/records/{**rest}";
                s["ReverseProxy:Routes:records:Metadata:RouteGroup"] = "alpha";
                s["ReverseProxy:Clusters:pages:Destinations:d1:Address"] = _pages.Address;
                s["Gateway:Compliance:Routes:records:RecordIdPath"] = "$.data[*].id";
                settings?.Invoke(s);
            },
            services: services);

    /// <summary>
    /// A real Kestrel upstream serving pages of <see cref="RecordIdReaderTests.TypicalBody"/>: <c>/records/page?first=&amp;count=</c>,
    /// written in pieces at the byte offsets of <c>split</c> (each flushed), with <c>status</c> and <c>type</c> overridable;
    /// <c>/records/malformed</c> serves JSON that breaks after two ids.
    /// </summary>
    private sealed class JsonPages(WebApplication app) : IAsyncDisposable
    {
        public const string Malformed = """{"data":[{"id":"a"},{"id":"b"},{"id": ]},{"id":"c"}]}""";

        public string Address { get; private set; } = "";

        public static async Task<JsonPages> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            app.Run(async context =>
            {
                var query = context.Request.Query;
                var body = context.Request.Path.Value!.EndsWith("/malformed", StringComparison.Ordinal)
                    ? Malformed
                    : RecordIdReaderTests.TypicalBody(int.Parse(query["count"].FirstOrDefault() ?? "10"), int.Parse(query["first"].FirstOrDefault() ?? "0"));
                var bytes = Encoding.UTF8.GetBytes(body);
                context.Response.StatusCode = int.Parse(query["status"].FirstOrDefault() ?? "200");
                context.Response.ContentType = query["type"].FirstOrDefault() ?? "application/json; charset=utf-8";
                var at = 0;
                foreach (var split in (query["split"].FirstOrDefault() ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).Where(s => s < bytes.Length).Append(bytes.Length))
                {
                    await context.Response.Body.WriteAsync(bytes.AsMemory(at, split - at));
                    await context.Response.Body.FlushAsync();
                    at = split;
                }
            });
            await app.StartAsync();
            return new JsonPages(app) { Address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single() + "/" };
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
