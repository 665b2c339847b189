using Azure.Data.Tables;
using Gateway.Core.Customers;
using Gateway.Core.Keys;
using Gateway.Core.Plans;
using Gateway.Core.Storage;
using Gateway.Core.Usage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Gateway.Core;

public static class ServiceCollectionExtensions
{
    /// <summary>Options, plan catalog, Table Storage and the control-plane services both hosts share.</summary>
    public static IServiceCollection AddGatewayCore(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GatewayOptions>()
            .Bind(configuration.GetSection(GatewayOptions.Section))
            .PostConfigure(o => o.Admin.Token ??= configuration["GATEWAY_ADMIN_TOKEN"])
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<GatewayOptions>, GatewayOptionsAnnotations>();
        services.AddSingleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>();

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<TableRequestCounter>();
        services.TryAddSingleton(sp =>
        {
            var options = new TableClientOptions
            {
                // Fail fast enough that a storage outage shows up as 503s instead of piled-up requests.
                Retry = { MaxRetries = 3, Delay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(2), NetworkTimeout = TimeSpan.FromSeconds(10) },
            };
            options.AddPolicy(sp.GetRequiredService<TableRequestCounter>(), Azure.Core.HttpPipelinePosition.PerCall);
            return options;
        });
        services.AddSingleton<PlanCatalog>();
        services.AddSingleton<GatewayTables>();
        services.TryAddSingleton<IApiKeyStore, TableApiKeyStore>();
        services.AddSingleton<ICustomerStore, TableCustomerStore>();
        services.AddSingleton<UsageTable>();
        services.AddSingleton<UsageReporter>();
        services.AddSingleton<CustomerService>();
        services.AddSingleton<ApiKeyService>();
        services.TryAddSingleton<IKeyChangePublisher, InProcessKeyChangePublisher>();
        return services;
    }
}
