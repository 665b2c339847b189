using System.ComponentModel;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.ControlPlane.Security;
using Gateway.Core;
using Gateway.Proxy.Hosting;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Infra;

/// <summary>
/// Keeps three things in step: the settings the code declares (<see cref="DeploymentSettings"/>), the option
/// properties they bind to, and the settings the Bicep gives the gateway container app and the function app, read
/// from infra/main.bicep compiled to ARM JSON (<see cref="BicepCli.Main"/>). A setting added on one side only fails
/// here, not in production.
/// </summary>
public sealed class ConfigurationDriftTests
{
    private const string GatewayBicep = "infra/modules/gateway.bicep";
    private const string FunctionsBicep = "infra/modules/functions.bicep";
    private const string ContainerApp = "Microsoft.App/containerApps";

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
        var (module, env) = GatewayEnv();

        var drift = SettingsDrift.Between(DeploymentSettings.Gateway, [], env.Select(module.LiteralName));

        Assert.True(drift.IsEmpty, drift.Describe("gateway container app", GatewayBicep));
    }

    [Fact]
    public void FunctionApp_Settings_MatchWhatTheCodeReads()
    {
        var (module, appSettings) = FunctionAppSettings();

        var drift = SettingsDrift.Between(DeploymentSettings.Functions, FunctionsPlatformSettings, appSettings.Select(module.LiteralName));

        Assert.True(drift.IsEmpty, drift.Describe("function app", FunctionsBicep));
    }

    [Fact]
    public void GatewayContainerApp_SecretSettings_ComeFromKeyVault()
    {
        var (module, env) = GatewayEnv();
        var secrets = module.Objects(module.Resource(ContainerApp), "properties", "configuration", "secrets");

        var plain = env.Where(e => DeploymentSettings.Secrets.Contains(module.LiteralName(e)) && (e["secretRef"] is null || e["value"] is not null)).Select(module.LiteralName).ToList();
        var notFromVault = secrets.Where(s => s["keyVaultUrl"] is null || s["value"] is not null).Select(module.LiteralName).ToList();

        Assert.True(plain.Count == 0, $"{GatewayBicep}: secret settings must use secretRef, never value: {string.Join(", ", plain)}");
        Assert.True(notFromVault.Count == 0, $"{GatewayBicep}: container app secrets must be Key Vault references (keyVaultUrl): {string.Join(", ", notFromVault)}");
    }

    [Fact]
    public void FunctionApp_SecretSettings_AreKeyVaultReferences()
    {
        var (module, appSettings) = FunctionAppSettings();

        var plain = appSettings
            .Where(e => DeploymentSettings.Secrets.Contains(module.LiteralName(e))
                && !ArmTemplate.LiteralStart(e["value"]).StartsWith("@Microsoft.KeyVault(", StringComparison.Ordinal))
            .Select(module.LiteralName)
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

    // The tests below break the real settings the way drift happens and check the tests above would fail: a guard
    // that never fails guards nothing. (A commented-out entry needs no test of its own any more: the Bicep compiler
    // drops comments, so it reaches the compiled template as a deleted one.)

    /// <summary>Every declared setting, taken out of the real compiled settings, is reported missing.</summary>
    [Theory]
    [InlineData(GatewayBicep)]
    [InlineData(FunctionsBicep)]
    public void RealBicep_WithADeclaredSettingTakenOut_FailsTheDriftCheck_NamingIt(string file)
    {
        var (declared, platform, names) = RealSettings(file);

        foreach (var setting in declared)
        {
            var drift = SettingsDrift.Between(declared, platform, names.Where(name => name != setting));

            Assert.Equal([setting], drift.MissingFromBicep);
            Assert.Empty(drift.NotDeclaredInCode);
        }
    }

    [Theory]
    [InlineData(GatewayBicep)]
    [InlineData(FunctionsBicep)]
    public void RealBicep_WithAnUndeclaredOrDuplicatedSetting_FailsTheDriftCheck_NamingIt(string file)
    {
        var (declared, platform, names) = RealSettings(file);

        var misspelledDrift = SettingsDrift.Between(declared, platform, ["Gateway__Keys__Enviroment", .. names]);
        var duplicatedDrift = SettingsDrift.Between(declared, platform, [declared[0], .. names]);

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

    /// <summary>The env of the gateway container (container app in <see cref="GatewayBicep"/>, container 'gateway').</summary>
    private static (ArmTemplate Module, IReadOnlyList<JsonObject> Env) GatewayEnv()
    {
        var module = ArmTemplate.Module("gateway", GatewayBicep);
        var containers = module.Objects(module.Resource(ContainerApp), "properties", "template", "containers");
        var gateway = containers.SingleOrDefault(c => module.LiteralName(c) == "gateway")
            ?? throw new InvalidOperationException($"{GatewayBicep}: the container app has no container named 'gateway'.");
        return (module, module.Objects(gateway, "env"));
    }

    /// <summary>The app settings of the function app in <see cref="FunctionsBicep"/>.</summary>
    private static (ArmTemplate Module, IReadOnlyList<JsonObject> AppSettings) FunctionAppSettings()
    {
        var module = ArmTemplate.Module("functions", FunctionsBicep);
        return (module, module.Objects(module.Resource("Microsoft.Web/sites"), "properties", "siteConfig", "appSettings"));
    }

    private static (IReadOnlyList<string> Declared, string[] Platform, IReadOnlyList<string> Names) RealSettings(string file)
    {
        var (module, entries) = file == GatewayBicep ? GatewayEnv() : FunctionAppSettings();
        var names = entries.Select(module.LiteralName).ToList();
        return file == GatewayBicep ? (DeploymentSettings.Gateway, [], names) : (DeploymentSettings.Functions, FunctionsPlatformSettings, names);
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
            : path.StartsWith(SignInOptions.Section + ":", StringComparison.Ordinal)
            ? (typeof(SignInOptions), path[(SignInOptions.Section.Length + 1)..].Split(':'))
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
