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
        services.AddSingleton<SpendCaps>();
        services.AddSingleton<SpendCapService>();
        services.AddKeyChangePublisher(configuration);
        return services;
    }

    /// <summary>
    /// Where key changes go: with <c>Gateway:ServiceBus</c> configured, to this process and the <c>key-changes</c>
    /// topic (every instance); without, to this process only (single node).
    /// </summary>
    private static void AddKeyChangePublisher(this IServiceCollection services, IConfiguration configuration)
    {
        var serviceBus = configuration.GetSection($"{GatewayOptions.Section}:ServiceBus").Get<ServiceBusOptions>();
        if (serviceBus?.IsConfigured == true)
        {
            services.TryAddSingleton<KeyChangeTopic>();
            services.TryAddSingleton<IKeyChangePublisher, ServiceBusKeyChangePublisher>();
        }
        else
        {
            services.TryAddSingleton<IKeyChangePublisher, InProcessKeyChangePublisher>();
        }
    }
}
