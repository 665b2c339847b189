using Microsoft.Extensions.Configuration;
using Gateway.Core;
using Gateway.Core.Keys;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Gateway.Compliance;

public static class ComplianceServices
{
    /// <summary>Licence terms, key licences, evidence and detection: what both hosts register (after <c>AddGatewayCore</c>).</summary>
    public static IServiceCollection AddCompliance(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ComplianceOptions>()
            .Bind(configuration.GetSection(ComplianceOptions.Section))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<ComplianceOptions>, ComplianceOptionsCheck>();
        services.AddSingleton<LicenceCatalog>();
        services.AddSingleton<ComplianceTables>();
        services.AddSingleton<KeyLicences>();
        services.AddSingleton<EvidenceTable>();
        services.AddSingleton<RecordTable>();
        services.AddSingleton<RecordRoutes>();
        services.AddSingleton<EvidenceRecorder>();
        services.AddSingleton<FlagTable>();
        services.AddSingleton<CanaryTable>();
        services.AddSingleton<CanaryBook>();
        services.AddSingleton<ComplianceScan>();

        // Past one machine flags also go to the compliance-flags topic, on the process's one Service Bus client.
        if (configuration.GetSection($"{GatewayOptions.Section}:ServiceBus").Get<ServiceBusOptions>()?.IsConfigured == true)
        {
            services.TryAddSingleton<KeyChangeTopic>();
            services.AddSingleton<IComplianceFlagPublisher, ServiceBusComplianceFlagPublisher>();
        }

        return services;
    }
}

/// <summary>Each setting's data annotations, one message per bad setting naming it as configured (<c>Gateway:Compliance:Plans:basic:MaxClientNetworks</c>).</summary>
public sealed class ComplianceOptionsCheck : IValidateOptions<ComplianceOptions>
{
    public ValidateOptionsResult Validate(string? name, ComplianceOptions options)
    {
        var failures = Failures(options);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    public static List<string> Failures(ComplianceOptions options)
    {
        var failures = new List<string>();
        Check(options, ComplianceOptions.Section, failures);
        foreach (var (route, settings) in options.Routes)
        {
            if (!string.IsNullOrEmpty(settings.RecordIdPath) && !RecordIdPath.TryParse(settings.RecordIdPath, out _, out var error))
            {
                failures.Add($"{ComplianceOptions.Section}:Routes:{route}:RecordIdPath '{settings.RecordIdPath}': {error} (supported: '$', then '.name' steps and '[*]', e.g. '$.data[*].id').");
            }
        }

        failures.AddRange(CanaryFailures(options));
        foreach (var (plan, settings) in options.Plans)
        {
            Check(settings, $"{ComplianceOptions.Section}:Plans:{plan}", failures);
            Check(settings.Detection, $"{ComplianceOptions.Section}:Plans:{plan}:Detection", failures);
            if (settings.Purposes.Any(p => !LicencePurposes.IsWellFormed(p.Trim().ToLowerInvariant())))
            {
                failures.Add($"{ComplianceOptions.Section}:Plans:{plan}:Purposes: each lowercase words joined by hyphens.");
            }
        }

        return failures;
    }

    private static IEnumerable<string> CanaryFailures(ComplianceOptions options)
    {
        var canaries = options.Routes.Where(r => r.Value.Canary.Enabled).ToList();
        if (canaries.Count > 0 && options.CanarySecret is not { Length: >= 32 })
        {
            yield return $"{ComplianceOptions.Section}:CanarySecret: at least 32 characters, the same on every instance, when a route has a canary ({canaries[0].Key}).";
        }

        foreach (var (route, settings) in canaries)
        {
            var at = $"{ComplianceOptions.Section}:Routes:{route}:Canary";
            if (!RecordIdPath.TryParse(settings.RecordIdPath, out var path, out _) || path.RecordsArrayDepth < 0)
            {
                yield return $"{at}: needs the route's RecordIdPath with a '[*]' (the list the canary joins).";
            }

            if (settings.Canary.IdPrefix.Any(c => c is '/' or '\\' or '#' or '?' || char.IsControl(c)))
            {
                yield return $"{at}:IdPrefix: no '/', '\\', '#', '?' or control characters (the id is the registry's partition key).";
            }

            if (settings.Canary.IdDigits is > 0 and < 10)
            {
                yield return $"{at}:IdDigits: 0 (hex) or 10 to 19 digits.";
            }

            if (!CanaryBook.IsTemplate(settings.Canary.Template!))
            {
                yield return $"{at}:Template: a JSON object with '{CanaryOptions.Placeholder}' where the id goes.";
            }
        }
    }

    private static void Check(object target, string path, List<string> failures)
    {
        var results = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        System.ComponentModel.DataAnnotations.Validator.TryValidateObject(target, new(target), results, validateAllProperties: true);
        failures.AddRange(results.Select(r => $"{path}:{string.Join(",", r.MemberNames)}: {r.ErrorMessage}"));
    }
}
