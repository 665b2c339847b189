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
/// Canary records through the real gateway (Azurite, a real Kestrel upstream writing JSON pages in pieces): one per key
/// and UTC day, inserted as the last record of the list, found exactly by the lookup, and a canary found in the wild
/// raising <c>redistribution_suspected</c>.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class CanaryTests(Azurite azurite) : GatewayTest(azurite)
{
    private const string Template = """{"id":"{canary}","user":{"id":"u3"},"likes":12}""";
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2030, 6, 15, 10, 0, 0, TimeSpan.Zero));
    private WebApplication _pages = null!;
    private string _pagesAddress = "";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _pages = builder.Build();
        _pages.Run(async context =>
        {
            var query = context.Request.Query;
            var bytes = Encoding.UTF8.GetBytes(RecordIdReaderTests.TypicalBody(int.Parse(query["count"].FirstOrDefault() ?? "10"), int.Parse(query["first"].FirstOrDefault() ?? "0")));
            context.Response.ContentType = query["type"].FirstOrDefault() ?? "application/json; charset=utf-8";
            context.Response.ContentLength = bytes.Length;
            var at = 0;
            foreach (var split in (query["split"].FirstOrDefault() ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).Where(s => s < bytes.Length).Append(bytes.Length))
            {
                await context.Response.Body.WriteAsync(bytes.AsMemory(at, split - at));
                await context.Response.Body.FlushAsync();
                at = split;
            }
        });
        await _pages.StartAsync();
        _pagesAddress = _pages.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single() + "/";
    }

    public override async Task DisposeAsync()
    {
        await _pages.StopAsync();
        await _pages.DisposeAsync();
        await base.DisposeAsync();
    }

    [Fact]
    public async Task Canary_InAKeysJsonLists_IsTheSameAllDay_DiffersForAnotherKeyOrDay_AndTheLookupFindsExactlyThatKeyAndDay()
    {
        await using var gateway = await StartAsync();
        var customer = await gateway.CreateCustomerAsync();
        var (keyA, a) = await gateway.IssueKeyAsync(customer);
        var (keyB, b) = await gateway.IssueKeyAsync(customer);
        var page = RecordIdReaderTests.TypicalBody(20);
        var closing = Encoding.UTF8.GetBytes(page).AsSpan().IndexOf("],\"meta\""u8);

        // The list's ']' alone in a chunk, at a chunk's start, at its end, and no split at all: the same canary each time.
        var seen = new List<string>();
        foreach (var split in new[] { $"{closing},{closing + 1}", $"{closing}", $"{closing + 1}", "7,300", "" })
        {
            using var response = await gateway.Data.SendAsync(TestGateway.Get($"records/page?count=20&split={split}", a));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            // The upstream's Content-Length was dropped: the longer body goes chunked.
            Assert.True(response.Headers.TransferEncodingChunked);
            var body = await response.Content.ReadAsStringAsync();
            var canary = CanaryId(body, 20);
            Assert.Equal(page.Insert(closing, "," + Template.Replace("{canary}", canary, StringComparison.Ordinal)), body);
            seen.Add(canary);
        }

        var canaryA = Assert.Single(seen.Distinct());
        Assert.Matches("^post-c[0-9a-f]{16}$", canaryA);
        var canaryB = CanaryId(await (await gateway.Data.SendAsync(TestGateway.Get("records/page?count=20", b))).Content.ReadAsStringAsync(), 20);
        Assert.NotEqual(canaryA, canaryB);

        // An empty list gets the canary alone; text is passed through unchanged with its length.
        Assert.Equal("{\"data\":[" + Template.Replace("{canary}", canaryA, StringComparison.Ordinal) + "],\"meta\":{\"next\":\"cursor-abcdef\",\"count\":0}}",
            await (await gateway.Data.SendAsync(TestGateway.Get("records/page?count=0", a))).Content.ReadAsStringAsync());
        using (var text = await gateway.Data.SendAsync(TestGateway.Get("records/page?count=20&type=text/plain", a)))
        {
            Assert.Equal(page, await text.Content.ReadAsStringAsync());
            Assert.NotEqual(true, text.Headers.TransferEncodingChunked);
        }

        _time.Advance(TimeSpan.FromDays(1));
        var nextDay = CanaryId(await (await gateway.Data.SendAsync(TestGateway.Get("records/page?count=20", a))).Content.ReadAsStringAsync(), 20);
        Assert.NotEqual(canaryA, nextDay);

        // The canary is not a record delivered: 20 per page.
        await gateway.Services.GetRequiredService<EvidenceRecorder>().FlushAsync(default);
        var stored = await gateway.Services.GetRequiredService<EvidenceTable>().ReadAsync(0, default);
        Assert.Equal(20 * 5, Assert.Single(stored, e => e.KeyId == keyA).Hours[0].Records);

        await gateway.Services.GetRequiredService<CanaryBook>().FlushAsync(default);
        var found = await gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/compliance/lookup?recordId={canaryA}");
        var item = Assert.Single(found.GetProperty("canary").EnumerateArray());
        Assert.Equal((keyA, customer, "2030-06-15", "received"), (item.GetProperty("keyId").GetString(), item.GetProperty("customerId").GetString(), item.GetProperty("day").GetString(), item.GetProperty("answer").GetString()));
        var other = await gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/compliance/lookup?recordId={nextDay}&day=2030-06-16");
        Assert.Equal((keyA, "2030-06-16"), (Assert.Single(other.GetProperty("canary").EnumerateArray()).GetProperty("keyId").GetString(), other.GetProperty("canary")[0].GetProperty("day").GetString()));
        Assert.Equal(keyB, (await gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/compliance/lookup?recordId={canaryB}")).GetProperty("canary")[0].GetProperty("keyId").GetString());

        // A guessed id is no canary, and without a day it is refused.
        await Problems.AssertAsync(await gateway.Admin.GetAsync("admin/v1/compliance/lookup?recordId=post-c0123456789abcdef"), 400, ProblemTypes.InvalidRequest);
        var guessed = await gateway.Admin.GetFromJsonAsync<JsonElement>("admin/v1/compliance/lookup?recordId=post-c0123456789abcdef&day=2030-06-15");
        Assert.Empty(guessed.GetProperty("canary").EnumerateArray());
    }

    [Fact]
    public async Task CanaryFound_RaisesRedistributionSuspected_ForTheKeyAndDay_GrowsWithTheNext_AndIsAudited()
    {
        await using var gateway = await StartAsync();
        var customer = await gateway.CreateCustomerAsync();
        var (keyId, key) = await gateway.IssueKeyAsync(customer);
        var first = CanaryId(await (await gateway.Data.SendAsync(TestGateway.Get("records/page?count=5", key))).Content.ReadAsStringAsync(), 5);
        _time.Advance(TimeSpan.FromDays(1));
        var second = CanaryId(await (await gateway.Data.SendAsync(TestGateway.Get("records/page?count=5", key))).Content.ReadAsStringAsync(), 5);
        await gateway.Services.GetRequiredService<CanaryBook>().FlushAsync(default);

        await Problems.AssertAsync(await gateway.Admin.PostAsJsonAsync("admin/v1/compliance/canaries/found", new { canaryId = "post-c0000000000000000", foundWhere = "https://paste.example/x" }), 404, ProblemTypes.NotFound);
        await Problems.AssertAsync(await gateway.Admin.PostAsJsonAsync("admin/v1/compliance/canaries/found", new { canaryId = first }), 400, ProblemTypes.InvalidRequest);

        var raised = await (await gateway.Admin.PostAsJsonAsync("admin/v1/compliance/canaries/found", new { canaryId = first, foundWhere = "https://dataset.example/dump.jsonl", foundAt = "2030-06-16T09:00:00Z" })).Content.ReadFromJsonAsync<JsonElement>();
        var flag = raised.GetProperty("flag");
        Assert.Equal((FlagKinds.RedistributionSuspected, keyId, customer, "high", "open"), (flag.GetProperty("kind").GetString(), flag.GetProperty("keyId").GetString(), flag.GetProperty("customerId").GetString(), flag.GetProperty("severity").GetString(), flag.GetProperty("status").GetString()));
        Assert.Equal((1, 20300615), (flag.GetProperty("evidence").GetProperty("canariesFound").GetInt64(), flag.GetProperty("evidence").GetProperty("deliveredDay").GetInt64()));
        Assert.Contains("https://dataset.example/dump.jsonl", flag.GetProperty("summary").GetString(), StringComparison.Ordinal);
        Assert.Equal(new DateTimeOffset(2030, 6, 15, 0, 0, 0, TimeSpan.Zero), flag.GetProperty("from").GetDateTimeOffset());

        var grown = (await (await gateway.Admin.PostAsJsonAsync("admin/v1/compliance/canaries/found", new { canaryId = second, foundWhere = "a forum post" })).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("flag");
        Assert.Equal(flag.GetProperty("id").GetString(), grown.GetProperty("id").GetString());
        Assert.Equal((2, 20300616), (grown.GetProperty("evidence").GetProperty("canariesFound").GetInt64(), grown.GetProperty("evidence").GetProperty("deliveredDay").GetInt64()));
        Assert.Equal(new DateTimeOffset(2030, 6, 17, 0, 0, 0, TimeSpan.Zero), grown.GetProperty("to").GetDateTimeOffset());

        var listed = await gateway.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/compliance/flags?keyId={keyId}&kind=redistribution_suspected");
        Assert.Single(listed.GetProperty("items").EnumerateArray());
        var audit = await gateway.Admin.GetFromJsonAsync<JsonElement>("admin/v1/audit?limit=1000&from=2030-06-15&to=2030-06-17");
        Assert.Equal(2, audit.GetProperty("items").EnumerateArray().Count(e => e.GetProperty("action").GetString() == "compliance.canary-found" && e.GetProperty("target").GetString() == flag.GetProperty("id").GetString()));
    }

    [Fact]
    public void RecordIdReader_RecordsListEnd_IsTheListsClosingBracket_AtEverySplit()
    {
        var bytes = Encoding.UTF8.GetBytes("""{"meta":[1,[2]],"data":[{"id":"a","tags":["x]"]},{"id":"b"}],"more":{"data":[]}}""");
        var expected = bytes.AsSpan().IndexOf("],\"more\""u8);
        Assert.True(RecordIdPath.TryParse("$.data[*].id", out var path, out _));
        Assert.Equal(2, path.RecordsArrayDepth);
        var reader = new RecordIdReader();
        for (var split = 0; split <= bytes.Length; split++)
        {
            reader.Start(path, new Ignore());
            reader.Feed(bytes.AsSpan(0, split));
            reader.Feed(bytes.AsSpan(split));
            Assert.Equal((expected, true, 2L), (reader.RecordsListEnd, reader.RecordsListHadElements, reader.Finish()));
        }

        var empty = Encoding.UTF8.GetBytes("""[ ]""");
        Assert.True(RecordIdPath.TryParse("$[*].id", out var root, out _));
        reader.Start(root, new Ignore());
        reader.Feed(empty);
        Assert.Equal((2L, false), (reader.RecordsListEnd, reader.RecordsListHadElements));
        reader.Finish();
    }

    [Fact]
    public async Task Canary_WithoutASecret_IsRefusedAtStartUp()
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => StartAsync(s => s["Gateway:Compliance:CanarySecret"] = "short"));
        Assert.Contains("CanarySecret", failure.ToString(), StringComparison.Ordinal);
    }

    /// <summary>The id of the record after the page's <paramref name="records"/> records: the canary.</summary>
    private static string CanaryId(string body, int records)
    {
        var data = JsonDocument.Parse(body).RootElement.GetProperty("data");
        Assert.Equal(records + 1, data.GetArrayLength());
        return data[records].GetProperty("id").GetString()!;
    }

    private Task<TestGateway> StartAsync(Action<Dictionary<string, string?>>? settings = null) =>
        StartGatewayAsync(
            s =>
            {
                s["Gateway:Compliance:FlushInterval"] = "01:00:00";
                s["ReverseProxy:Routes:records:ClusterId"] = "pages";
                s["ReverseProxy:Routes:records:Match:Path"] = "/records/{**rest}";
                s["ReverseProxy:Routes:records:Metadata:RouteGroup"] = "alpha";
                s["ReverseProxy:Clusters:pages:Destinations:d1:Address"] = _pagesAddress;
                s["Gateway:Compliance:Routes:records:RecordIdPath"] = "$.data[*].id";
                s["Gateway:Compliance:Routes:records:Canary:Template"] = Template;
                s["Gateway:Compliance:Routes:records:Canary:IdPrefix"] = "post-c";
                s["Gateway:Compliance:CanarySecret"] = "a-canary-secret-of-at-least-32-characters";
                settings?.Invoke(s);
            },
            services: s => s.AddSingleton<TimeProvider>(_time));

    private sealed class Ignore : IRecordIdSink
    {
        public void Delivered(ReadOnlySpan<ulong> recordIds)
        {
        }
    }
}
