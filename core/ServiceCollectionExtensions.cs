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
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>();
        services.AddSingleton<IValidateOptions<GatewayOptions>>(new NestedOptionsValidator());

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

    /// <summary>Data annotations on nested options objects are not checked by ValidateDataAnnotations; this does.</summary>
    private sealed class NestedOptionsValidator : IValidateOptions<GatewayOptions>
    {
        public ValidateOptionsResult Validate(string? name, GatewayOptions options)
        {
            var failures = new List<string>();
            foreach (var nested in new object[] { options.Storage, options.Keys, options.Metering, options.Admin })
            {
                var results = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
                if (!System.ComponentModel.DataAnnotations.Validator.TryValidateObject(nested, new(nested), results, validateAllProperties: true))
                {
                    failures.AddRange(results.Select(r => r.ErrorMessage ?? "invalid setting"));
                }
            }

            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}
