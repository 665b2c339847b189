using System.ComponentModel;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Gateway.Core;
using Gateway.Proxy.Hosting;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Infra;

/// <summary>
/// Keeps three things in step: the settings the code declares (<see cref="DeploymentSettings"/>), the option
/// properties they bind to, and the settings the Bicep gives the gateway container app and the function app.
/// A setting added on one side only fails here, not in production.
/// </summary>
public sealed class ConfigurationDriftTests
{
    private const string GatewayBicep = "infra/modules/gateway.bicep";
    private const string FunctionsBicep = "infra/modules/functions.bicep";

    /// <summary>Settings the Functions platform reads (identity-based host storage), not our code.</summary>
    private static readonly string[] FunctionsPlatformSettings =
    [
        "AzureWebJobsStorage__accountName",
        "AzureWebJobsStorage__credential",
        "AzureWebJobsStorage__clientId",
    ];

    /// <summary>Settings read by the Azure SDKs and the Functions host themselves rather than bound to options.</summary>
    private static readonly string[] SdkSettings = [DeploymentSettings.ApplicationInsightsConnectionString, DeploymentSettings.AzureClientId];

    [Fact]
    public void GatewayContainerApp_Settings_MatchWhatTheCodeReads()
    {
        var env = BicepArray.Entries(ReadRepositoryFile(GatewayBicep), "env");

        var drift = SettingsDrift.Between(DeploymentSettings.Gateway, [], env.Select(e => e.Name));

        Assert.True(drift.IsEmpty, drift.Describe("gateway container app", GatewayBicep));
    }

    [Fact]
    public void FunctionApp_Settings_MatchWhatTheCodeReads()
    {
        var appSettings = BicepArray.Entries(ReadRepositoryFile(FunctionsBicep), "appSettings");

        var drift = SettingsDrift.Between(DeploymentSettings.Functions, FunctionsPlatformSettings, appSettings.Select(e => e.Name));

        Assert.True(drift.IsEmpty, drift.Describe("function app", FunctionsBicep));
    }

    [Fact]
    public void GatewayContainerApp_SecretSettings_ComeFromKeyVault()
    {
        var bicep = ReadRepositoryFile(GatewayBicep);
        var env = BicepArray.Entries(bicep, "env");
        var secrets = BicepArray.Entries(bicep, "secrets");

        var plain = env.Where(e => DeploymentSettings.Secrets.Contains(e.Name) && (!e.Has("secretRef") || e.Has("value"))).Select(e => e.Name).ToList();
        var notFromVault = secrets.Where(s => !s.Has("keyVaultUrl") || s.Has("value")).Select(s => s.Name).ToList();

        Assert.True(plain.Count == 0, $"{GatewayBicep}: secret settings must use secretRef, never value: {string.Join(", ", plain)}");
        Assert.True(notFromVault.Count == 0, $"{GatewayBicep}: container app secrets must be Key Vault references (keyVaultUrl): {string.Join(", ", notFromVault)}");
    }

    [Fact]
    public void FunctionApp_SecretSettings_AreKeyVaultReferences()
    {
        var appSettings = BicepArray.Entries(ReadRepositoryFile(FunctionsBicep), "appSettings");

        var plain = appSettings
            .Where(e => DeploymentSettings.Secrets.Contains(e.Name) && !e.ValueStartsWith("'@Microsoft.KeyVault("))
            .Select(e => e.Name)
            .ToList();

        Assert.True(plain.Count == 0, $"{FunctionsBicep}: secret settings must be '@Microsoft.KeyVault(...)' references: {string.Join(", ", plain)}");
    }

    [Fact]
    public void DeploymentSettings_GatewayKeys_BindToOptionProperties()
    {
        var unbound = DeclaredSettings()
            .Where(name => name.StartsWith(GatewayOptions.Section + "__", StringComparison.Ordinal))
            .Select(name => (name, problem: OptionsPath.Problem(name)))
            .Where(x => x.problem is not null)
            .Select(x => $"{x.name}: {x.problem}")
            .ToList();

        Assert.True(unbound.Count == 0, "Settings that bind to no option property:\n" + string.Join("\n", unbound));
    }

    [Fact]
    public void DeploymentSettings_ReverseProxyKeys_ExistInGatewayAppSettings()
    {
        using var appSettings = JsonDocument.Parse(ReadRepositoryFile("proxy/appsettings.json"));

        var missing = DeclaredSettings()
            .Where(name => name.StartsWith("ReverseProxy__", StringComparison.Ordinal))
            .Where(name => !JsonPathExists(appSettings.RootElement, name.Split("__")))
            .ToList();

        Assert.True(missing.Count == 0, "Settings that override nothing in proxy/appsettings.json:\n" + string.Join("\n", missing));
    }

    [Fact]
    public void DeploymentSettings_EveryName_IsOptionOrProxyOrSdkSetting()
    {
        var unknown = DeclaredSettings()
            .Where(name => !name.StartsWith(GatewayOptions.Section + "__", StringComparison.Ordinal)
                && !name.StartsWith("ReverseProxy__", StringComparison.Ordinal)
                && !SdkSettings.Contains(name))
            .ToList();

        Assert.True(unknown.Count == 0, "Settings this test cannot trace to code:\n" + string.Join("\n", unknown));
    }

    // The tests below break the real files the way drift happens and check the tests above would fail: a guard
    // that never fails guards nothing.

    /// <summary>Every declared setting, taken out of the real Bicep (deleted, or commented out), is reported missing.</summary>
    [Theory]
    [InlineData(GatewayBicep, "env", "deleted")]
    [InlineData(GatewayBicep, "env", "commented out")]
    [InlineData(FunctionsBicep, "appSettings", "deleted")]
    [InlineData(FunctionsBicep, "appSettings", "commented out")]
    public void RealBicep_WithADeclaredSettingTakenOut_FailsTheDriftCheck_NamingIt(string file, string array, string how)
    {
        var (declared, platform) = file == GatewayBicep ? (DeploymentSettings.Gateway, Array.Empty<string>()) : (DeploymentSettings.Functions, FunctionsPlatformSettings);
        var bicep = ReadRepositoryFile(file);

        foreach (var setting in declared)
        {
            var line = EntryLine(bicep, setting);
            var broken = bicep.Replace(line, how == "deleted" ? "" : "// " + line, StringComparison.Ordinal);

            var drift = SettingsDrift.Between(declared, platform, BicepArray.Entries(broken, array).Select(e => e.Name));

            Assert.Equal([setting], drift.MissingFromBicep);
            Assert.Empty(drift.NotDeclaredInCode);
        }
    }

    [Theory]
    [InlineData(GatewayBicep, "env")]
    [InlineData(FunctionsBicep, "appSettings")]
    public void RealBicep_WithAnUndeclaredOrDuplicatedSetting_FailsTheDriftCheck_NamingIt(string file, string array)
    {
        var (declared, platform) = file == GatewayBicep ? (DeploymentSettings.Gateway, Array.Empty<string>()) : (DeploymentSettings.Functions, FunctionsPlatformSettings);
        var bicep = ReadRepositoryFile(file);
        var opening = new Regex($@"(?<![\w.]){array}\s*:\s*\[");
        var misspelled = opening.Replace(bicep, m => m.Value + "\n  { name: 'Gateway__Keys__Enviroment', value: 'live' }", 1);
        var duplicated = opening.Replace(bicep, m => m.Value + "\n" + EntryLine(bicep, declared[0]), 1);

        var misspelledDrift = SettingsDrift.Between(declared, platform, BicepArray.Entries(misspelled, array).Select(e => e.Name));
        var duplicatedDrift = SettingsDrift.Between(declared, platform, BicepArray.Entries(duplicated, array).Select(e => e.Name));

        Assert.Equal(["Gateway__Keys__Enviroment"], misspelledDrift.NotDeclaredInCode);
        Assert.Empty(misspelledDrift.MissingFromBicep);
        Assert.Equal([declared[0]], duplicatedDrift.Duplicates);
    }

    /// <summary>Every declared <c>Gateway__</c> setting binds; the same name misspelled, or cut to its section, does not.</summary>
    [Fact]
    public void DeclaredGatewaySettings_MisspelledOrCutShort_FailTheBindingCheck()
    {
        var settings = DeclaredSettings().Where(name => name.StartsWith(GatewayOptions.Section + "__", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(settings);

        foreach (var name in settings)
        {
            Assert.Null(OptionsPath.Problem(name));
            Assert.NotNull(OptionsPath.Problem(name[..^1]));
            var section = name[..name.LastIndexOf("__", StringComparison.Ordinal)];
            if (section.Contains("__", StringComparison.Ordinal))
            {
                Assert.NotNull(OptionsPath.Problem(section));
            }
        }
    }

    /// <summary>The whole line of the real Bicep that sets <paramref name="setting"/> (entries are one line each).</summary>
    private static string EntryLine(string bicep, string setting)
    {
        var lines = bicep.Split('\n').Where(l => l.Contains($"name: '{setting}'", StringComparison.Ordinal)).ToList();
        Assert.True(lines.Count == 1, $"Expected one one-line entry for {setting}, found {lines.Count}.");
        return lines[0] + "\n";
    }

    private static IEnumerable<string> DeclaredSettings() =>
        typeof(DeploymentSettings).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(string))
            .Select(f => (string)f.GetRawConstantValue()!)
            .Concat(DeploymentSettings.Gateway)
            .Concat(DeploymentSettings.Functions)
            .Distinct(StringComparer.Ordinal);

    private static bool JsonPathExists(JsonElement element, IEnumerable<string> path)
    {
        foreach (var segment in path)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(segment, out element))
            {
                return false;
            }
        }

        return true;
    }

    private static string ReadRepositoryFile(string relativePath) => File.ReadAllText(Path.Combine(RepositoryRoot.Path, relativePath));
}

/// <summary>The difference between the settings a host must have and the settings the Bicep gives it.</summary>
internal sealed record SettingsDrift(IReadOnlyList<string> MissingFromBicep, IReadOnlyList<string> NotDeclaredInCode, IReadOnlyList<string> Duplicates)
{
    public bool IsEmpty => MissingFromBicep.Count == 0 && NotDeclaredInCode.Count == 0 && Duplicates.Count == 0;

    public static SettingsDrift Between(IEnumerable<string> required, IEnumerable<string> platform, IEnumerable<string> setInBicep)
    {
        var set = setInBicep.ToList();
        var requiredSet = required.ToHashSet(StringComparer.Ordinal);
        var allowed = requiredSet.Concat(platform).ToHashSet(StringComparer.Ordinal);
        return new(
            [.. requiredSet.Where(name => !set.Contains(name, StringComparer.Ordinal)).Order(StringComparer.Ordinal)],
            [.. set.Where(name => !allowed.Contains(name)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)],
            [.. set.GroupBy(name => name, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key)]);
    }

    public string Describe(string host, string bicepFile)
    {
        var text = new StringBuilder($"The {host} settings in {bicepFile} and Gateway.Core.DeploymentSettings differ.");
        if (MissingFromBicep.Count > 0)
        {
            text.Append($"\nDeclared in DeploymentSettings but not set in the Bicep: {string.Join(", ", MissingFromBicep)}");
        }

        if (NotDeclaredInCode.Count > 0)
        {
            text.Append($"\nSet in the Bicep but not declared in DeploymentSettings: {string.Join(", ", NotDeclaredInCode)}");
        }

        if (Duplicates.Count > 0)
        {
            text.Append($"\nSet more than once in the Bicep: {string.Join(", ", Duplicates)}");
        }

        return text.ToString();
    }
}

/// <summary>Checks that a <c>Gateway__X__Y</c> setting binds to a settable property of the options classes.</summary>
internal static class OptionsPath
{
    /// <summary>Null when the setting binds to a property the binder can set from a string, else what is wrong.</summary>
    public static string? Problem(string setting)
    {
        var path = setting.Replace("__", ":", StringComparison.Ordinal);
        var (type, segments) = path.StartsWith(ListenerOptions.Section + ":", StringComparison.Ordinal)
            ? (typeof(ListenerOptions), path[(ListenerOptions.Section.Length + 1)..].Split(':'))
            : (typeof(GatewayOptions), path[(GatewayOptions.Section.Length + 1)..].Split(':'));

        for (var i = 0; i < segments.Length; i++)
        {
            var property = type.GetProperty(segments[i], BindingFlags.Public | BindingFlags.Instance);
            if (property is null)
            {
                return $"{type.Name} has no property {segments[i]}";
            }

            type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            var isLast = i == segments.Length - 1;
            if (isLast && (!property.CanWrite || type == typeof(object) || !TypeDescriptor.GetConverter(type).CanConvertFrom(typeof(string))))
            {
                return $"{property.DeclaringType!.Name}.{property.Name} is not a setting a string can set";
            }
        }

        return null;
    }
}

/// <summary>One object of a literal Bicep array: its <c>name</c> and its source text.</summary>
internal sealed class BicepEntry(string name, string text, string masked)
{
    public string Name { get; } = name;

    public string Text { get; } = text;

    /// <summary>True when the object has the property, e.g. <c>secretRef</c> or <c>value</c>.</summary>
    public bool Has(string property) => PropertyIndex(property) >= 0;

    public bool ValueStartsWith(string prefix)
    {
        var at = PropertyIndex("value");
        return at >= 0 && Text[at..].TrimStart().StartsWith(prefix, StringComparison.Ordinal);
    }

    /// <summary>Index just after <c>property:</c> at the object's top level, or -1.</summary>
    private int PropertyIndex(string property)
    {
        var match = Regex.Match(masked, $@"(?<=[{{,\s]){Regex.Escape(property)}\s*:");
        return match.Success ? match.Index + match.Length : -1;
    }
}

/// <summary>
/// Reads the objects of a literal array property (<c>env: [ ... ]</c>, <c>appSettings: [ ... ]</c>) from Bicep
/// source text. Comments and string contents are masked first, so brackets inside them do not count. Names must be
/// string literals: an interpolated name cannot be checked, so it is an error.
/// </summary>
internal static class BicepArray
{
    public static IReadOnlyList<BicepEntry> Entries(string bicep, string property)
    {
        var masked = Mask(bicep);
        var starts = Regex.Matches(masked, $@"(?<![\w.]){Regex.Escape(property)}\s*:\s*\[").ToList();
        if (starts.Count != 1)
        {
            throw new InvalidOperationException($"Expected one literal '{property}: [' array, found {starts.Count}. Keep it a literal array so ConfigurationDriftTests can read it.");
        }

        var open = starts[0].Index + starts[0].Length - 1;
        var close = Matching(masked, open);
        var entries = new List<BicepEntry>();
        for (var i = open + 1; i < close; i++)
        {
            if (masked[i] == '{')
            {
                var end = Matching(masked, i);
                entries.Add(Entry(bicep[i..(end + 1)], masked[i..(end + 1)]));
                i = end;
            }
            else if (!char.IsWhiteSpace(masked[i]) && masked[i] != ',')
            {
                throw new InvalidOperationException($"'{property}' must be a literal array of objects; found '{masked[i]}' at offset {i}.");
            }
        }

        return entries;
    }

    private static BicepEntry Entry(string text, string masked)
    {
        var name = Regex.Match(masked, @"(?<=[{,\s])name\s*:\s*'");
        if (!name.Success)
        {
            throw new InvalidOperationException($"Entry without a literal name: {text}");
        }

        var start = name.Index + name.Length;
        var end = text.IndexOf('\'', start);
        var value = text[start..end];
        if (value.Contains("${", StringComparison.Ordinal) || value.Contains('\\', StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Setting names must be plain literals, found '{value}'.");
        }

        return new BicepEntry(value, text, masked);
    }

    private static int Matching(string masked, int open)
    {
        var depth = 0;
        for (var i = open; i < masked.Length; i++)
        {
            if (masked[i] is '[' or '{' or '(')
            {
                depth++;
            }
            else if (masked[i] is ']' or '}' or ')' && --depth == 0)
            {
                return i;
            }
        }

        throw new InvalidOperationException($"Unbalanced brackets from offset {open}.");
    }

    /// <summary>Same length as the source; comments become spaces, string contents become 'x' (quotes stay).</summary>
    private static string Mask(string source)
    {
        var masked = source.ToCharArray();
        var i = 0;
        while (i < source.Length)
        {
            if (source[i] == '/' && i + 1 < source.Length && source[i + 1] == '/')
            {
                for (; i < source.Length && source[i] != '\n'; i++)
                {
                    masked[i] = ' ';
                }
            }
            else if (source[i] == '/' && i + 1 < source.Length && source[i + 1] == '*')
            {
                var end = source.IndexOf("*/", i + 2, StringComparison.Ordinal);
                end = end < 0 ? source.Length : end + 2;
                for (; i < end; i++)
                {
                    masked[i] = ' ';
                }
            }
            else if (source[i] == '\'')
            {
                var end = StringEnd(source, i);
                for (var j = i + 1; j < end - 1; j++)
                {
                    masked[j] = 'x';
                }

                i = end;
            }
            else
            {
                i++;
            }
        }

        return new string(masked);
    }

    /// <summary>Index just past the string literal that starts at <paramref name="start"/>, interpolations included.</summary>
    private static int StringEnd(string source, int start)
    {
        if (string.CompareOrdinal(source, start, "'''", 0, 3) == 0)
        {
            var close = source.IndexOf("'''", start + 3, StringComparison.Ordinal);
            return close < 0 ? source.Length : close + 3;
        }

        var i = start + 1;
        while (i < source.Length)
        {
            switch (source[i])
            {
                case '\\':
                    i += 2;
                    break;
                case '\'':
                    return i + 1;
                case '$' when i + 1 < source.Length && source[i + 1] == '{':
                    i = InterpolationEnd(source, i + 2);
                    break;
                default:
                    i++;
                    break;
            }
        }

        return source.Length;
    }

    private static int InterpolationEnd(string source, int i)
    {
        var depth = 1;
        while (i < source.Length && depth > 0)
        {
            switch (source[i])
            {
                case '\'':
                    i = StringEnd(source, i);
                    continue;
                case '{':
                    depth++;
                    break;
                case '}':
                    depth--;
                    break;
            }

            i++;
        }

        return i;
    }
}
