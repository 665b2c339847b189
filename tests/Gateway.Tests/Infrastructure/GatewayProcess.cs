using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// The gateway as operators run it: its own process (<c>dotnet Gateway.Proxy.dll</c>, content root beside the
/// assembly, where appsettings*.json and plans.json are), configured only through environment variables and the
/// command line, so every configuration source the real host reads is in play. For tests of the load order, and
/// for tests that kill it the hard way (SIGKILL: no shutdown flush, nothing of the process runs after the signal).
/// </summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    private static readonly string[] InheritedPrefixes = ["Gateway__", "GATEWAY_", "ReverseProxy__", "ASPNETCORE_", "DOTNET_ENVIRONMENT", "Logging__"];
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output;

    private GatewayProcess(Process process, ConcurrentQueue<string> output, int dataPort, int adminPort)
    {
        _process = process;
        _output = output;
        Data = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{dataPort}/") };
        Admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{adminPort}/") };
    }

    public HttpClient Data { get; }

    /// <summary>The admin plane, without a token: tests choose which token to send.</summary>
    public HttpClient Admin { get; }

    /// <summary>What the process wrote to standard output and error so far.</summary>
    public IReadOnlyCollection<string> Output => _output;

    /// <summary>
    /// Starts the gateway with exactly these environment variables (the test runner's own Gateway, ReverseProxy,
    /// ASPNETCORE and DOTNET_ENVIRONMENT variables are removed) and arguments, plus the two ports on the command line,
    /// and waits until this process listens on both.
    /// </summary>
    public static async Task<GatewayProcess> StartAsync(IReadOnlyDictionary<string, string> environment, IEnumerable<string> arguments)
    {
        for (var attempt = 1; ; attempt++)
        {
            var ports = FreePort.Take(2);
            var start = new ProcessStartInfo("dotnet")
            {
                WorkingDirectory = AppContext.BaseDirectory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Gateway.Proxy.dll"));
            foreach (var argument in arguments.Concat([$"--Gateway:Listen:DataPort={ports[0]}", $"--Gateway:Listen:AdminPort={ports[1]}"]))
            {
                start.ArgumentList.Add(argument);
            }

            foreach (var name in start.Environment.Keys.Where(k => InheritedPrefixes.Any(p => k.StartsWith(p, StringComparison.OrdinalIgnoreCase))).ToList())
            {
                start.Environment.Remove(name);
            }

            foreach (var (name, value) in environment)
            {
                start.Environment[name] = value;
            }

            // Its own journal unless the test names one: processes side by side must not share the default folder.
            start.Environment.TryAdd("Gateway__Metering__Journal__Path", TestGateway.NewJournalPath());

            var output = new ConcurrentQueue<string>();
            var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var gateway = new GatewayProcess(process, output, ports[0], ports[1]);

            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (DateTime.UtcNow < deadline && !process.HasExited)
            {
                var listening = ListeningSockets.PortsOf(process.Id);
                if (listening.Contains(ports[0]) && listening.Contains(ports[1]))
                {
                    return gateway;
                }

                await Task.Delay(100);
            }

            await gateway.DisposeAsync();
            var text = string.Join("\n", output);
            if (attempt < 5 && text.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            throw new InvalidOperationException($"The gateway process did not listen on ports {ports[0]} and {ports[1]} within 60 s. Its output:\n{text}");
        }
    }

    /// <summary>Starts the gateway in Production with these settings as environment variables (<c>:</c> becomes <c>__</c>).</summary>
    public static Task<GatewayProcess> StartAsync(Dictionary<string, string?> settings)
    {
        var environment = settings.Where(s => s.Value is not null).ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value!);
        environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        environment["DOTNET_ENVIRONMENT"] = "Production";
        environment["Gateway__Listen__Address"] = "127.0.0.1";
        return StartAsync(environment, []);
    }

    public async Task<string> CreateCustomerAsync(string name = "Acme Data Ltd")
    {
        using var response = await Admin.SendAsync(AsAdmin(HttpMethod.Post, "admin/v1/customers", TestGateway.AdminToken, JsonContent.Create(new { name, email = "dev@acme.test" })));
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    /// <summary>Issues a key and returns its plaintext.</summary>
    public async Task<string> IssueKeyAsync(string customerId, string plan = "open")
    {
        using var response = await Admin.SendAsync(AsAdmin(HttpMethod.Post, "admin/v1/keys", TestGateway.AdminToken, JsonContent.Create(new { customerId, plan })));
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
    }

    /// <summary>SIGKILL, and waits until the process is gone.</summary>
    public void Kill()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    public static HttpRequestMessage AsAdmin(HttpMethod method, string path, string token, HttpContent? content = null) => new(method, path)
    {
        Headers = { Authorization = new AuthenticationHeaderValue("Bearer", token) },
        Content = content,
    };

    public async ValueTask DisposeAsync()
    {
        Data.Dispose();
        Admin.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
