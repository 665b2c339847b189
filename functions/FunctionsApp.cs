using Gateway.Billing;
using Gateway.Compliance;
using Gateway.ControlPlane;
using Gateway.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Functions;

/// <summary>What the function app registers; tests build the same container to call the functions in-process.</summary>
public static class FunctionsApp
{
    public static IServiceCollection AddFunctionsApp(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddGatewayCore(configuration);
        services.AddControlPlane(configuration);
        services.AddBilling(configuration);
        services.AddCompliance(configuration);
        services.AddProblemDetails();
        return services;
    }
}
