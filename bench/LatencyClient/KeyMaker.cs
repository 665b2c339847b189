using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;

namespace Gateway.Bench.LatencyClient;

/// <summary>
/// Creates <c>--count</c> keys for one customer through <c>POST /admin/v1/keys/bulk</c> (1,000 a request),
/// <c>--parallel</c> requests at a time, and prints the rate.
/// </summary>
public static class KeyMaker
{
    private const int PerRequest = 1_000;

    private sealed record CreatedKey(string Key);

    private sealed record CreatedKeys(List<CreatedKey> Items);

    public static async Task<int> RunAsync(Arguments args)
    {
        var admin = new Uri(args.Text("admin"));
        var count = (int)args.Number("count");
        var parallel = (int)args.Number("parallel", 2);
        using var client = new HttpClient { BaseAddress = admin, Timeout = TimeSpan.FromMinutes(2) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", args.Text("token"));

        var batches = (count + PerRequest - 1) / PerRequest;
        var keys = new string[count];
        var watch = Stopwatch.StartNew();
        await Parallel.ForAsync(0, batches, new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (b, ct) =>
        {
            var first = b * PerRequest;
            var size = Math.Min(PerRequest, count - first);
            var body = new { customerId = args.Text("customer"), plan = args.Text("plan"), count = size };
            using var response = await client.PostAsJsonAsync("/admin/v1/keys/bulk", body, ct);
            response.EnsureSuccessStatusCode();
            var created = (await response.Content.ReadFromJsonAsync<CreatedKeys>(ct))!.Items;
            for (var i = 0; i < size; i++)
            {
                keys[first + i] = created[i].Key;
            }
        });

        Console.Error.WriteLine($"created {count} keys in {watch.Elapsed.TotalSeconds:0.0} s ({count / watch.Elapsed.TotalSeconds:0} keys/s)");
        await File.WriteAllLinesAsync(args.Text("out"), keys);
        return 0;
    }
}
