using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// The real gateway as a process of its own (<c>dotnet proxy/bin/{configuration}/net10.0/Gateway.Proxy.dll</c>, built
/// with the tests), configured through environment variables as in production, so that a test can kill it the hard
/// way (SIGKILL): no shutdown flush, no disposal, nothing of the process runs after the signal.
/// </summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    private const int OutputLines = 200;
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private GatewayProcess(Process process, int dataPort, int adminPort)
    {
        _process = process;
        Data = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{dataPort}/") };
        Admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{adminPort}/") };
        Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestGateway.AdminToken);
    }

    public HttpClient Data { get; }

    public HttpClient Admin { get; }

    /// <summary>The last lines the process wrote, for failure messages.</summary>
    public string Output => string.Join(Environment.NewLine, _output);

    /// <summary>Starts the gateway with these settings (<c>:</c> becomes <c>__</c>) and waits until it answers.</summary>
    public static async Task<GatewayProcess> StartAsync(Dictionary<string, string?> settings)
    {
        var dll = Path.Combine(RepositoryRoot.Path, "proxy", "bin", BuildConfiguration(), "net10.0", "Gateway.Proxy.dll");
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"{dll} is missing: build the test project, which builds the gateway.");
        }

        var dataPort = FreePort.Next();
        int adminPort;
        while ((adminPort = FreePort.Next()) == dataPort)
        {
        }

        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { dll },
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("Gateway__", StringComparison.OrdinalIgnoreCase) || k is "GATEWAY_ADMIN_TOKEN").ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        var all = new Dictionary<string, string?>(settings)
        {
            ["Gateway:Listen:Address"] = "127.0.0.1",
            ["Gateway:Listen:DataPort"] = dataPort.ToString(CultureInfo.InvariantCulture),
            ["Gateway:Listen:AdminPort"] = adminPort.ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in all)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("The gateway process did not start.");
        var gateway = new GatewayProcess(process, dataPort, adminPort);
        process.OutputDataReceived += (_, e) => gateway.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => gateway.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The gateway exited with code {process.ExitCode}:{Environment.NewLine}{gateway.Output}");
            }

            try
            {
                using var health = await gateway.Admin.GetAsync("healthz");
                if (health.IsSuccessStatusCode)
                {
                    return gateway;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        await gateway.DisposeAsync();
        throw new TimeoutException($"The gateway did not answer within 60 s:{Environment.NewLine}{gateway.Output}");
    }

    public async Task<string> CreateCustomerAsync(string name = "Acme Data Ltd")
    {
        using var response = await Admin.PostAsJsonAsync("admin/v1/customers", new { name, email = "dev@acme.test" });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    /// <summary>Issues a key and returns its plaintext.</summary>
    public async Task<string> IssueKeyAsync(string customerId, string plan = "open")
    {
        using var response = await Admin.PostAsJsonAsync("admin/v1/keys", new { customerId, plan });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
    }

    /// <summary>SIGKILL, and waits until the process is gone.</summary>
    public void Kill()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    public ValueTask DisposeAsync()
    {
        Data.Dispose();
        Admin.Dispose();
        if (!_process.HasExited)
        {
            Kill();
        }

        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > OutputLines && _output.TryDequeue(out _))
        {
        }
    }

    /// <summary>Release or Debug: the configuration these tests were built in (bin/{configuration}/net10.0/).</summary>
    private static string BuildConfiguration() =>
        new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
}
