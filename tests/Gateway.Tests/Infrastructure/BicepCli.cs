using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using System.Xml.Linq;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// The Bicep CLI that <c>infra/build.sh</c> runs, found the same way: package <c>Azure.Bicep.CommandLine.&lt;rid&gt;</c>
/// in the NuGet global packages folder (<c>NUGET_PACKAGES</c>, else what <c>dotnet nuget locals</c> says), at
/// <c>BICEP_VERSION</c> or the version <c>infra/tools/BicepCli.proj</c> pins, restored through that project when missing.
/// </summary>
public static class BicepCli
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(5);

    private static readonly Lazy<JsonObject> MainTemplate = new(() => Build("infra/main.bicep"));

    /// <summary><c>infra/main.bicep</c> compiled to ARM JSON, once per test run.</summary>
    public static JsonObject Main => MainTemplate.Value;

    /// <summary><c>bicep build &lt;file&gt; --stdout</c>, parsed; fails with Bicep's diagnostics when it does not compile.</summary>
    public static JsonObject Build(string repositoryRelativePath)
    {
        var (exitCode, stdout, stderr) = Run(Executable(), ["build", repositoryRelativePath, "--stdout"]);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"bicep build {repositoryRelativePath} failed (exit code {exitCode}):\n{stderr}");
        }

        return JsonNode.Parse(stdout)?.AsObject() ?? throw new InvalidOperationException($"bicep build {repositoryRelativePath} wrote no JSON.");
    }

    private static string Executable()
    {
        var rid = Rid();
        var version = Environment.GetEnvironmentVariable("BICEP_VERSION") is { Length: > 0 } pinned ? pinned : ProjectVersion();
        var bicep = Path.Combine(PackagesFolder(), $"azure.bicep.commandline.{rid}", version, "tools", "bicep");
        if (!File.Exists(bicep))
        {
            var (exitCode, _, stderr) = Run("dotnet", ["restore", "infra/tools/BicepCli.proj", $"-p:BicepVersion={version}", $"-p:BicepRid={rid}", "--verbosity", "quiet"]);
            if (exitCode != 0 || !File.Exists(bicep))
            {
                throw new InvalidOperationException($"Restoring the Bicep CLI {version} ({rid}) did not produce {bicep}:\n{stderr}");
            }
        }

        // NuGet extracts the binary without the execute bit for everyone (infra/build.sh does the same).
        if (!OperatingSystem.IsWindows() && !File.GetUnixFileMode(bicep).HasFlag(UnixFileMode.UserExecute))
        {
            File.SetUnixFileMode(bicep, File.GetUnixFileMode(bicep) | UnixFileMode.UserExecute);
        }

        return bicep;
    }

    /// <summary>The package's runtime id, as infra/build.sh picks it (Linux and macOS, x64 and arm64).</summary>
    private static string Rid() => (OperatingSystem.IsMacOS() ? "osx" : OperatingSystem.IsLinux() ? "linux" : throw new PlatformNotSupportedException("No Bicep CLI package for this OS in infra/build.sh.")) + "-" + RuntimeInformation.OSArchitecture switch
    {
        Architecture.X64 => "x64",
        Architecture.Arm64 => "arm64",
        var other => throw new PlatformNotSupportedException($"No Bicep CLI package for {other}."),
    };

    /// <summary>The default <c>BicepVersion</c> of <c>infra/tools/BicepCli.proj</c>.</summary>
    private static string ProjectVersion() =>
        XDocument.Load(Path.Combine(RepositoryRoot.Path, "infra", "tools", "BicepCli.proj"))
            .Descendants("BicepVersion").Select(e => e.Value.Trim()).FirstOrDefault(v => v.Length > 0)
        ?? throw new InvalidOperationException("infra/tools/BicepCli.proj sets no BicepVersion.");

    private static string PackagesFolder()
    {
        if (Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } folder)
        {
            return folder;
        }

        var (_, stdout, _) = Run("dotnet", ["nuget", "locals", "global-packages", "--list"]);
        const string Prefix = "global-packages:";
        var line = stdout.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(Prefix, StringComparison.Ordinal));
        return line?[Prefix.Length..].Trim() ?? throw new InvalidOperationException($"dotnet nuget locals named no global-packages folder:\n{stdout}");
    }

    private static (int ExitCode, string Stdout, string Stderr) Run(string fileName, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = RepositoryRoot.Path,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{fileName} did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Patience))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', start.ArgumentList)} took longer than {Patience}.");
        }

        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
