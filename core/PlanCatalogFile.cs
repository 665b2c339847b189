using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.FileProviders;

namespace Gateway.Core;

/// <summary>
/// The shipped plan catalog, <c>plans.json</c> beside the host's assemblies. It is the first configuration source,
/// so appsettings, environment variables (<c>Gateway__Plans__basic__MonthlyQuota=100</c>) and the command line
/// override it, and both hosts (gateway and Functions) sell the same plans.
/// </summary>
public static class PlanCatalogFile
{
    public const string FileName = "plans.json";

    public static IConfigurationBuilder AddPlanCatalogFile(this IConfigurationBuilder configuration)
    {
        configuration.Sources.Insert(0, new JsonConfigurationSource
        {
            Path = FileName,
            Optional = false,
            ReloadOnChange = false,
            FileProvider = new PhysicalFileProvider(AppContext.BaseDirectory),
        });
        return configuration;
    }
}
