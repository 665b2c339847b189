using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Gateway.Benchmarks;

/// <summary>
/// Memory per active key: the real gateway (in this process, against Azurite) and a real upstream; N keys issued in
/// bulk, each called once through the data port (so each has its cache entry, rate-limit bucket, quota period and
/// usage cells), flushed, then the live managed heap after full collections, against the same gateway before the
/// keys. Run by bench/key-memory.sh, which starts Azurite.
/// </summary>
public static class KeyMemory
{
    private const string AdminToken = "key-memory-admin-token-0123456789";

    public static async Task<int> RunAsync(string storage, IReadOnlyList<int> counts)
    {
        Console.WriteLine("keys | live heap before (MB) | after (MB) | bytes per key | requests/key | wall s");
        foreach (var count in counts)
        {
            await MeasureAsync(storage, count);
        }

        return 0;
    }

    private static async Task MeasureAsync(string storage, int count)
    {
        await using var upstream = await StartUpstreamAsync();
        var ports = FreePorts(2);
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:Storage:ConnectionString"] = storage,
            ["Gateway:Storage:TablePrefix"] = "km" + Guid.NewGuid().ToString("N")[..10],
            ["Gateway:Admin:Token"] = AdminToken,
            ["Gateway:Listen:Address"] = "127.0.0.1",
            ["Gateway:Listen:DataPort"] = ports[0].ToString(CultureInfo.InvariantCulture),
            ["Gateway:Listen:AdminPort"] = ports[1].ToString(CultureInfo.InvariantCulture),
            ["Gateway:Keys:Environment"] = "test",
            ["Gateway:Keys:UnknownKeyReadsPerSecondPerNetwork"] = "1000000",
            ["Gateway:Keys:UnknownKeyReadsPerSecond"] = "1000000",
            ["Gateway:Plans:open:RequestsPerSecond"] = "100",
            ["Gateway:Plans:open:Burst"] = "100",
            ["Gateway:Plans:open:MonthlyQuota"] = "1000000",
            ["Gateway:Plans:open:MaxKeys"] = "1000000",
            ["Gateway:Plans:open:RouteGroups:0"] = "posts",
            ["ReverseProxy:Routes:posts:ClusterId"] = "upstream",
            ["ReverseProxy:Routes:posts:Match:Path"] = "/v1/posts/{**rest}",
            ["ReverseProxy:Routes:posts:Metadata:RouteGroup"] = "posts",
            ["ReverseProxy:Clusters:upstream:Destinations:d1:Address"] = upstream.Urls.First(),
            ["Logging:LogLevel:Default"] = "Warning",
        };
        var app = Proxy.GatewayApp.Build([], builder =>
        {
            builder.Configuration.Sources.Clear();
            builder.Configuration.AddInMemoryCollection(settings);
            builder.Logging.ClearProviders();
        });
        await app.StartAsync();
        var started = DateTimeOffset.UtcNow;
        try
        {
            using var admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ports[1]}/"), Timeout = TimeSpan.FromMinutes(5) };
            admin.DefaultRequestHeaders.Authorization = new("Bearer", AdminToken);
            using var data = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 32 }) { BaseAddress = new Uri($"http://127.0.0.1:{ports[0]}/") };
            var customer = (await (await admin.PostAsJsonAsync("admin/v1/customers", new { name = "Key Memory Ltd", email = "km@example.com" })).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();

            // One key in use first, so the baseline holds everything that does not grow with keys (pools, JIT, the first flush).
            var keys = await IssueAsync(admin, customer!, 1);
            await CallAllAsync(data, keys);
            var before = LiveHeap();

            keys = await IssueAsync(admin, customer!, count);
            await CallAllAsync(data, keys);
            await Task.Delay(TimeSpan.FromSeconds(3)); // a flush interval and more: counts written, dirty flags cleared
            var after = LiveHeap();
            GC.KeepAlive(keys);
            var keyStrings = keys.Sum(k => 2L * k.Length + 24);
            var perKey = (after - before - keyStrings) / (double)count;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{count,7:N0} | {before / 1e6,8:F1} | {after / 1e6,8:F1} | {perKey,8:F0} | 1 | {(DateTimeOffset.UtcNow - started).TotalSeconds:F0}"));
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private static async Task<List<string>> IssueAsync(HttpClient admin, string customer, int count)
    {
        var keys = new List<string>(count);
        for (var issued = 0; issued < count; issued += 1000)
        {
            var batch = Math.Min(1000, count - issued);
            using var response = await admin.PostAsJsonAsync("admin/v1/keys/bulk", new { customerId = customer, plan = "open", count = batch });
            response.EnsureSuccessStatusCode();
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            keys.AddRange(body.GetProperty("items").EnumerateArray().Select(k => k.GetProperty("key").GetString()!));
        }

        return keys;
    }

    private static async Task CallAllAsync(HttpClient data, List<string> keys)
    {
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < keys.Count)
            {
                // A first call reads the key from storage; on this shared machine Azurite can be slower than the lookup's
                // time limit (503 storage-unavailable, Retry-After), so a refused first call is retried, a bounded number of times.
                for (var attempt = 1; ; attempt++)
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, "v1/posts/1");
                    request.Headers.TryAddWithoutValidation("X-Api-Key", keys[i]);
                    using var response = await data.SendAsync(request);
                    if (response.IsSuccessStatusCode)
                    {
                        break;
                    }

                    if ((int)response.StatusCode != 503 || attempt == 20)
                    {
                        throw new InvalidOperationException($"Key {i}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                    }

                    await Task.Delay(200);
                }
            }
        }));
    }

    /// <summary>The managed heap's live bytes after full, compacting collections.</summary>
    private static long LiveHeap()
    {
        for (var i = 0; i < 3; i++)
        {
            System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }

        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static async Task<WebApplication> StartUpstreamAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var upstream = builder.Build();
        upstream.MapGet("/v1/posts/{**rest}", () => Results.Json(new { id = "1", text = "hello" }));
        await upstream.StartAsync();
        return upstream;
    }

    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0)).ToList();
        listeners.ForEach(l => l.Start());
        var ports = listeners.Select(l => ((System.Net.IPEndPoint)l.LocalEndpoint).Port).ToArray();
        listeners.ForEach(l => l.Stop());
        return ports;
    }
}
