using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using HdrHistogram;

namespace Gateway.Bench.LatencyClient;

/// <summary>
/// Sends GET requests on a fixed schedule (request i is due at start + i / rate), whether or not earlier ones have
/// answered, and measures each latency from its intended send time, so a stalled server cannot hide its stall
/// (no coordinated omission). The number of requests is fixed: rate × duration. With <c>--keys FILE</c> the requests
/// rotate over the keys in the file (one per line), so every key calls at rate ÷ keys.
/// </summary>
public static partial class OpenLoop
{
    public static async Task<int> RunAsync(Arguments args)
    {
        var url = new Uri(args.Text("url"));
        var rate = args.Number("rate");
        var duration = args.Number("duration");
        var warmup = args.Number("warmup", 1);
        string[] keys = args.OptionalText("keys") is { } file
            ? [.. File.ReadAllLines(file).Where(line => line.Length > 0)]
            : args.OptionalText("key") is { } key ? [key] : [];

        using var client = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),

            // As many connections as wrk uses: a request that finds them all busy waits (and the wait counts, since
            // latency runs from the intended send time) instead of opening one connection more per waiting request.
            MaxConnectionsPerServer = (int)args.Number("connections", 32),
        })
        {
            Timeout = TimeSpan.FromSeconds(10),
        };

        await RunScheduleAsync(client, url, keys, rate, warmup);
        var (latencies, errors) = await RunScheduleAsync(client, url, keys, rate, duration);

        var histogram = new LongHistogram(TimeSpan.FromSeconds(60).Ticks * 100, 3);
        foreach (var nanoseconds in latencies)
        {
            histogram.RecordValue(Math.Max(1, nanoseconds));
        }

        static string Micros(long nanoseconds) => (nanoseconds / 1000.0).ToString("F1", CultureInfo.InvariantCulture);
        Console.WriteLine(string.Join(' ',
            Micros(histogram.GetValueAtPercentile(50)),
            Micros(histogram.GetValueAtPercentile(99)),
            Micros(histogram.GetValueAtPercentile(99.9)),
            Micros(histogram.GetMaxValue()),
            latencies.Length,
            errors));
        return errors == 0 ? 0 : 1;
    }

    private static async Task<(long[] Latencies, int Errors)> RunScheduleAsync(HttpClient client, Uri url, string[] keys, double rate, double seconds)
    {
        var count = Math.Max(1, (int)(rate * seconds));
        var latencies = new long[count];
        var pending = new Task[count];
        var errors = 0;
        var ticksPerRequest = Stopwatch.Frequency / rate;

        // The schedule runs on its own thread: it blocks in usleep, and must not hold up the pool's completions.
        await Task.Factory.StartNew(
            () =>
            {
                var start = Stopwatch.GetTimestamp();
                for (var i = 0; i < count; i++)
                {
                    var due = start + (long)(i * ticksPerRequest);
                    var wait = due - Stopwatch.GetTimestamp();
                    if (wait > 0)
                    {
                        // usleep wakes within ~50-100 µs on Linux; Thread.Sleep and Task.Delay only have millisecond resolution.
                        _ = Sleep((uint)(wait * 1_000_000 / Stopwatch.Frequency));
                    }

                    pending[i] = SendAsync(i, due);
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        await Task.WhenAll(pending);
        return (latencies, errors);

        async Task SendAsync(int index, long due)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (keys.Length > 0)
            {
                request.Headers.TryAddWithoutValidation("X-Api-Key", keys[index % keys.Length]);
            }

            try
            {
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead);
                if (!response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref errors);
                }
            }
            catch (HttpRequestException)
            {
                Interlocked.Increment(ref errors);
            }
            catch (TaskCanceledException)
            {
                Interlocked.Increment(ref errors);
            }

            latencies[index] = (long)((Stopwatch.GetTimestamp() - due) * (1e9 / Stopwatch.Frequency));
        }
    }

    [LibraryImport("libc", EntryPoint = "usleep")]
    private static partial int Sleep(uint microseconds);
}
