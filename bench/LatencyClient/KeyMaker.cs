using System.Net.Http.Headers;
using System.Net.Http.Json;

namespace Gateway.Bench.LatencyClient;

/// <summary>Creates <c>--count</c> keys for one customer through <c>POST /admin/v1/keys</c>, <c>--parallel</c> at a time.</summary>
public static class KeyMaker
{
    private sealed record CreatedKey(string Key);

    public static async Task<int> RunAsync(Arguments args)
    {
        var admin = new Uri(args.Text("admin"));
        var count = (int)args.Number("count");
        var parallel = (int)args.Number("parallel", 16);
        var body = new { customerId = args.Text("customer"), plan = args.Text("plan") };
        using var client = new HttpClient { BaseAddress = admin, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", args.Text("token"));

        var keys = new string[count];
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (i, ct) =>
        {
            using var response = await client.PostAsJsonAsync("/admin/v1/keys", body, ct);
            response.EnsureSuccessStatusCode();
            keys[i] = (await response.Content.ReadFromJsonAsync<CreatedKey>(ct))!.Key;
        });

        await File.WriteAllLinesAsync(args.Text("out"), keys);
        return 0;
    }
}
