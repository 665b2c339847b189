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

        Port = FreePort.Next();
        var start = new ProcessStartInfo("node")
        {
            ArgumentList = { script, "--tableHost", "127.0.0.1", "--tablePort", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--inMemoryPersistence", "--skipApiVersionCheck", "--loose", "--silent" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = Process.Start(start) ?? throw new InvalidOperationException("Azurite did not start.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"Azurite exited with code {_process.ExitCode}.");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }

        throw new TimeoutException("Azurite did not start listening within 30 s.");
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

public static class FreePort
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
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
