using Gateway.ControlPlane.Security;
using Gateway.Core;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.ControlPlane;

public static class ControlPlaneServices
{
    /// <summary>
    /// Sign-in (the admin token) and the policies endpoints declare. Both hosts call this, so a request is authenticated
    /// and authorized the same way whichever host answers it. No scheme is the default: only endpoints that name a
    /// policy authenticate anyone.
    /// </summary>
    public static IServiceCollection AddControlPlane(this IServiceCollection services)
    {
        services.AddSingleton<GeneratedAdminToken>();
        services.AddOptions<GatewayOptions>()
            .PostConfigure<IHostEnvironment, GeneratedAdminToken>(AdminToken.Configure)
            .Validate(o => AdminToken.Validate(o).Succeeded, AdminToken.Requirement);

        // ASP.NET logs every challenge at Information under the handler's category: one line per unauthenticated
        // admin call is noise, and a flood of them would be a log-volume attack. Failures stay visible at Warning.
        services.Configure<LoggerFilterOptions>(o => o.Rules.Add(
            new LoggerFilterRule(null, typeof(AdminTokenAuthenticationHandler).FullName, LogLevel.Warning, null)));
        services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, AdminTokenAuthenticationHandler>(AdminTokenAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(ControlPlanePolicies.Admin, p => p.AddAuthenticationSchemes(AdminTokenAuthenticationHandler.SchemeName).RequireRole(Roles.Admin));
        return services;
    }
}
