using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Gateway.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Gateway.Tests.EndToEnd;

/// <summary>
/// The single-node stack exactly as the README starts it: the real <c>bash scripts/run.sh</c> (Azurite with its
/// data on disk, the demo upstream, the Release gateway), in a process group of its own, stopped the three ways a
/// person or a service manager stops it.
/// </summary>
[Trait("Category", "EndToEnd")]
[Collection(RunsAlone.Name)]
public sealed partial class RunScriptTests(ITestOutputHelper log) : IAsyncLifetime
{
    private const int Calls = 300;
    private readonly string _azuriteFolder = Directory.CreateTempSubdirectory("gateway-run-sh-").FullName;
    private readonly List<RunScript> _runs = [];

    public enum StopBy
    {
        /// <summary>Ctrl+C in a terminal: SIGINT to the foreground process group.</summary>
        InterruptToGroup,

        /// <summary><c>kill PID</c>: SIGTERM to run.sh alone.</summary>
        TerminateToScript,

        /// <summary>systemd, container runtimes: SIGTERM to every process of the group at once.</summary>
        TerminateToGroup,
    }

    [Theory]
    [InlineData(StopBy.InterruptToGroup)]
    [InlineData(StopBy.TerminateToScript)]
    [InlineData(StopBy.TerminateToGroup)]
    public async Task RunScript_StoppedRightAfterTheLastCall_KeepsCustomerKeyAndExactUsage(StopBy stop)
    {
        var clock = Stopwatch.StartNew();
        var first = Start();
        await first.WaitUntilHealthyAsync();
        log.WriteLine($"first start: {clock.ElapsedMilliseconds} ms");
        var customer = await first.CreateCustomerAsync();
        var (keyId, key) = await first.IssueKeyAsync(customer);
        var statuses = await first.CallAsync(key, Calls);
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));

        var stopping = Stopwatch.StartNew();
        first.Stop(stop);
        var exitCode = await first.WaitForExitAsync(TimeSpan.FromSeconds(10));
        stopping.Stop();
        log.WriteLine($"stop by {stop}: {stopping.ElapsedMilliseconds} ms");

        Assert.True(exitCode == 0, $"run.sh exited with {exitCode} after {stopping.ElapsedMilliseconds} ms:\n{first.Output}");
        Assert.DoesNotMatch(StackFrame(), first.Output);
        Assert.DoesNotContain("usage rows failed", first.Output, StringComparison.Ordinal);

        clock.Restart();
        var second = Start();
        await second.WaitUntilHealthyAsync();
        log.WriteLine($"second start: {clock.ElapsedMilliseconds} ms");
        using (var found = await second.Admin.GetAsync($"admin/v1/customers/{customer}"))
        {
            Assert.Equal(HttpStatusCode.OK, found.StatusCode);
        }

        var keys = await second.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/keys?customerId={customer}");
        var stored = Assert.Single(keys.GetProperty("items").EnumerateArray());
        Assert.Equal(keyId, stored.GetProperty("id").GetString());
        Assert.Equal("active", stored.GetProperty("status").GetString());

        var usage = await second.Admin.GetFromJsonAsync<JsonElement>($"admin/v1/usage?customerId={customer}");
        Assert.Equal(Calls, usage.GetProperty("total").GetInt64());
        Assert.Equal(0, usage.GetProperty("rejected").GetInt64());
        Assert.Equal([HttpStatusCode.OK], await second.CallAsync(key, 1));

        second.Stop(StopBy.TerminateToGroup);
        Assert.Equal(0, await second.WaitForExitAsync(TimeSpan.FromSeconds(10)));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var run in _runs)
        {
            await run.DisposeAsync();
        }

        Directory.Delete(_azuriteFolder, recursive: true);
    }

    /// <summary>How run.sh announces the processes it started: "Azurite (pid 1234)".</summary>
    [GeneratedRegex(@"\(pid (\d+)\)")]
    private static partial Regex AnnouncedPid();

    /// <summary>A line of a .NET stack trace ("   at Namespace.Type.Method(...)").</summary>
    [GeneratedRegex(@"^\s+at \S+\(", RegexOptions.Multiline)]
    private static partial Regex StackFrame();

    private RunScript Start()
    {
        var run = RunScript.Start(_azuriteFolder);
        _runs.Add(run);
        return run;
    }

    /// <summary>
    /// One <c>bash scripts/run.sh</c> on free ports, started with <c>setsid</c> so that it leads a process group
    /// of its own, as a shell in a terminal or a service manager would start it.
    /// </summary>
    private sealed class RunScript : IAsyncDisposable
    {
        private const string AdminToken = "run-script-test-admin-token-0123";
        private readonly Process _process;
        private readonly StringBuilder _output = new();

        private RunScript(Process process, int dataPort, int adminPort)
        {
            _process = process;
            Data = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{dataPort}/") };
            Admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{adminPort}/") };
            Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        }

        public HttpClient Data { get; }

        public HttpClient Admin { get; }

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        public static RunScript Start(string azuriteFolder)
        {
            var ports = FreePort.Take(4);
            int dataPort = ports[0], adminPort = ports[1];
            var start = new ProcessStartInfo("setsid")
            {
                ArgumentList = { "bash", Path.Combine(RepositoryRoot.Path, "scripts", "run.sh") },
                WorkingDirectory = RepositoryRoot.Path,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };

            // What the test host inherited from `dotnet test` (MSBuild's own settings, an environment name) would
            // change how run.sh builds and runs; it gets a shell's environment plus the overrides it documents.
            foreach (var name in start.Environment.Keys.Where(n =>
                n.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || n.StartsWith("Gateway", StringComparison.OrdinalIgnoreCase) ||
                n.StartsWith("ReverseProxy", StringComparison.OrdinalIgnoreCase) || n.EndsWith("_ENVIRONMENT", StringComparison.Ordinal)).ToList())
            {
                start.Environment.Remove(name);
            }

            start.Environment["GATEWAY_DATA_PORT"] = dataPort.ToString(CultureInfo.InvariantCulture);
            start.Environment["GATEWAY_ADMIN_PORT"] = adminPort.ToString(CultureInfo.InvariantCulture);
            start.Environment["DEMO_PORT"] = ports[2].ToString(CultureInfo.InvariantCulture);
            start.Environment["AZURITE_PORT"] = ports[3].ToString(CultureInfo.InvariantCulture);
            start.Environment["AZURITE_LOCATION"] = azuriteFolder;
            start.Environment["GATEWAY_ADMIN_TOKEN"] = AdminToken;

            // If run.sh has to build, no build server may outlive it inside the group the test signals.
            start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
            start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
            start.Environment["UseSharedCompilation"] = "false";

            var process = Process.Start(start) ?? throw new InvalidOperationException("setsid bash scripts/run.sh did not start.");
            var run = new RunScript(process, dataPort, adminPort);
            process.OutputDataReceived += (_, e) => run.Append(e.Data);
            process.ErrorDataReceived += (_, e) => run.Append(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return run;
        }

        /// <summary>Waits for the admin port's health endpoint (run.sh may have to build first).</summary>
        public async Task WaitUntilHealthyAsync()
        {
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < TimeSpan.FromMinutes(3))
            {
                if (_process.HasExited)
                {
                    throw new InvalidOperationException($"run.sh exited with {_process.ExitCode} before the gateway was up:\n{Output}");
                }

                try
                {
                    using var health = await Admin.GetAsync("healthz");
                    if (health.IsSuccessStatusCode)
                    {
                        return;
                    }
                }
                catch (HttpRequestException)
                {
                }

                await Task.Delay(200);
            }

            throw new TimeoutException($"The gateway did not answer /healthz within 3 minutes:\n{Output}");
        }

        public async Task<string> CreateCustomerAsync()
        {
            using var response = await Admin.PostAsJsonAsync("admin/v1/customers", new { name = "Acme Research", email = "dev@acme.test" });
            response.EnsureSuccessStatusCode();
            return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        }

        public async Task<(string Id, string Key)> IssueKeyAsync(string customerId)
        {
            // Enterprise: a burst of 2,000, so every call is admitted and billable.
            using var response = await Admin.PostAsJsonAsync("admin/v1/keys", new { customerId, plan = "enterprise" });
            response.EnsureSuccessStatusCode();
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            return (body.GetProperty("id").GetString()!, body.GetProperty("key").GetString()!);
        }

        /// <summary>Calls the demo upstream's posts through the data port, 8 at a time.</summary>
        public async Task<HttpStatusCode[]> CallAsync(string key, int count)
        {
            var statuses = new HttpStatusCode[count];
            await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"v1/posts/{i + 1}");
                request.Headers.Add("X-Api-Key", key);
                using var response = await Data.SendAsync(request, ct);
                statuses[i] = response.StatusCode;
            });
            return statuses;
        }

        public void Stop(StopBy stop)
        {
            // setsid made run.sh the leader of its process group: the group id is its pid.
            var pid = _process.Id.ToString(CultureInfo.InvariantCulture);
            Kill(stop switch
            {
                StopBy.InterruptToGroup => ["-INT", "--", "-" + pid],
                StopBy.TerminateToScript => ["-TERM", pid],
                _ => ["-TERM", "--", "-" + pid],
            });
        }

        /// <summary>run.sh's exit code, once it and everything writing to its output have exited.</summary>
        public async Task<int> WaitForExitAsync(TimeSpan bound)
        {
            using var timeout = new CancellationTokenSource(bound);
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"run.sh did not exit within {bound.TotalSeconds} s:\n{Output}");
            }

            return _process.ExitCode;
        }

        public async ValueTask DisposeAsync()
        {
            Data.Dispose();
            Admin.Dispose();
            if (!_process.HasExited)
            {
                // A failed test: end the group outright. Azurite and the demo upstream, in sessions of their own,
                // follow their parent (run.sh gives them a parent-death signal); wait for them, then make sure.
                Kill(["-KILL", "--", "-" + _process.Id.ToString(CultureInfo.InvariantCulture)]);
                foreach (var match in AnnouncedPid().Matches(Output).Cast<Match>())
                {
                    try
                    {
                        using var child = Process.GetProcessById(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture));
                        if (!child.WaitForExit(TimeSpan.FromSeconds(10)))
                        {
                            child.Kill();
                        }
                    }
                    catch (ArgumentException)
                    {
                        // Already gone.
                    }
                }

                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            _process.Dispose();
        }

        private static void Kill(string[] arguments)
        {
            var start = new ProcessStartInfo("kill") { UseShellExecute = false };
            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }

            using var kill = Process.Start(start)!;
            kill.WaitForExit();
        }

        private void Append(string? line)
        {
            if (line is not null)
            {
                lock (_output)
                {
                    _output.AppendLine(line);
                }
            }
        }
    }
}

/// <summary>
/// The end-to-end tests run whole processes (Azurite, two .NET hosts, builds): alone, after the parallel tests, so
/// that neither slows the other's timing down.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RunsAlone
{
    public const string Name = "Runs alone";
}
