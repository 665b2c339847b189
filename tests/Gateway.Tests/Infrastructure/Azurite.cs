using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A real Azurite table service for the test run: started from the repository's node_modules on a free port,
/// in memory, and stopped at the end. Tests isolate themselves with a table prefix of their own.
/// </summary>
public sealed class Azurite : IAsyncLifetime
{
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private Process? _process;

    public int Port { get; private set; }

    public string ConnectionString => ConnectionStringFor(Port);

    /// <summary>The connection string for Azurite's account reached on another port (a <see cref="StorageFaultProxy"/>).</summary>
    public static string ConnectionStringFor(int port) =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AccountKey};TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;";

    public async Task InitializeAsync()
    {
        var script = Path.Combine(RepositoryRoot.Path, "node_modules", "azurite", "dist", "src", "table", "main.js");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException($"Azurite is not installed ({script} is missing). Run 'npm ci' at the repository root.");
        }

        // Port 0: the kernel gives Azurite a free port, so no other process can take it between choosing and binding.
        // Azurite does not print the port it got; ListeningSockets reads it from /proc.
        var start = new ProcessStartInfo("node")
        {
            ArgumentList = { script, "--tableHost", "127.0.0.1", "--tablePort", "0", "--inMemoryPersistence", "--skipApiVersionCheck", "--loose", "--silent" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = Process.Start(start) ?? throw new InvalidOperationException("Azurite did not start.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        // 90 s: on a machine loaded by parallel builds (load average ~20 on 2 cores) node took over 30 s once.
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"Azurite exited with code {_process.ExitCode}.");
            }

            if (ListeningSockets.PortsOf(_process.Id) is [var port])
            {
                Port = port;
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("Azurite did not start listening within 90 s.");
    }

    /// <summary>Freezes Azurite (SIGSTOP): storage stops answering without losing its data, as in an outage.</summary>
    public void Freeze() => Signal("STOP");

    public void Thaw() => Signal("CONT");

    public Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            Signal("CONT");
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }

        _process?.Dispose();
        return Task.CompletedTask;
    }

    private void Signal(string signal)
    {
        using var kill = Process.Start("kill", $"-{signal} {_process!.Id}");
        kill.WaitForExit();
    }
}

[CollectionDefinition(Name)]
public sealed class UsesAzurite : ICollectionFixture<Azurite>
{
    public const string Name = "Azurite";
}

/// <summary>
/// Free ports for servers that must be told their port before they start (the gateway's two planes). Servers that
/// can bind port 0 and say what they got (Kestrel upstreams, Azurite) do that instead.
/// </summary>
public static class FreePort
{
    /// <summary>
    /// Distinct free ports: every one is held open until all are picked, so two can never be the same. Another
    /// process may still bind one before our server does; the server then fails to bind and the caller retries.
    /// </summary>
    public static int[] Take(int count)
    {
        var held = new List<TcpListener>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                held.Add(listener);
            }

            return [.. held.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            held.ForEach(l => l.Stop());
        }
    }
}

/// <summary>The TCP ports a process listens on, read from /proc (Linux): its socket inodes matched against /proc/net/tcp.</summary>
public static class ListeningSockets
{
    private const string Listen = "0A";

    public static IReadOnlyList<int> PortsOf(int pid)
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
            {
                if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:[", StringComparison.Ordinal))
                {
                    inodes.Add(target["socket:[".Length..^1]);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }

        var ports = new List<int>();
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            foreach (var line in File.Exists(table) ? File.ReadLines(table).Skip(1) : [])
            {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 9 && fields[3] == Listen && inodes.Contains(fields[9]))
                {
                    ports.Add(int.Parse(fields[1][(fields[1].LastIndexOf(':') + 1)..], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture));
                }
            }
        }

        return [.. ports.Distinct()];
    }
}

public static class RepositoryRoot
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Gateway.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Cannot find the repository root (Gateway.sln) above " + AppContext.BaseDirectory);
    }
}
