using Gateway.ControlPlane.Audit;
using Gateway.ControlPlane.Keys;
using Gateway.ControlPlane.Security;
using Gateway.Core;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Configuration;
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
    public static IServiceCollection AddControlPlane(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SignInOptions>()
            .Bind(configuration.GetSection(SignInOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<RoleTokens>();
        services.AddSingleton<AuditLog>();
        services.AddSingleton<FailedSignIns>();
        services.AddSingleton<RotationOverlapSweep>();
        services.AddSingleton<Billing.BillingEnforcement>();
        services.AddSingleton<Billing.StripeWebhooks>();
        services.AddSingleton<Billing.PaymentGraceSweep>();
        services.AddSingleton<Compliance.ComplianceReports>();
        var entra = configuration.GetSection(SignInOptions.Section).Get<SignInOptions>()?.Entra ?? new EntraOptions();

        services.AddSingleton<GeneratedAdminToken>();
        services.AddOptions<GatewayOptions>()
            .PostConfigure<IHostEnvironment, GeneratedAdminToken>(AdminToken.Configure)
            .Validate(o => AdminToken.Validate(o).Succeeded, AdminToken.Requirement);

        // ASP.NET logs every challenge at Information under the handler's category: one line per unauthenticated
        // admin call is noise, and a flood of them would be a log-volume attack. Failures stay visible at Warning.
        services.Configure<LoggerFilterOptions>(o => o.Rules.Add(
            new LoggerFilterRule(null, typeof(AdminTokenAuthenticationHandler).FullName, LogLevel.Warning, null)));
        var authentication = services.AddAuthentication();
        authentication.AddScheme<AuthenticationSchemeOptions, AdminTokenAuthenticationHandler>(AdminTokenAuthenticationHandler.SchemeName, null);
        authentication.AddJwtBearer(SignInSchemes.RoleToken, _ => { });
        services.AddOptions<JwtBearerOptions>(SignInSchemes.RoleToken).Configure<RoleTokens>((o, tokens) =>
        {
            o.MapInboundClaims = false;
            o.TokenValidationParameters = tokens.ValidationParameters;
            o.Events = new JwtBearerEvents { OnAuthenticationFailed = RecordFailedSignIn };
        });
        authentication.AddPortalSession();
        if (entra.Enabled)
        {
            authentication.AddJwtBearer(SignInSchemes.Entra, o =>
            {
                o.Authority = entra.Authority;
                o.Audience = entra.Audience;
                o.MapInboundClaims = false;
                o.Events = new JwtBearerEvents { OnTokenValidated = c => EntraSignIn.Normalize(c, entra), OnAuthenticationFailed = RecordFailedSignIn };
            });
        }

        // One scheme for policies to name: it picks the scheme by the token's shape (and issuer), and every refusal is
        // written by the admin-token handler, so all schemes refuse with the same problems.
        authentication.AddPolicyScheme(SignInSchemes.ControlPlane, "Control plane sign-in", o =>
        {
            o.ForwardDefaultSelector = context => SignInSchemes.Select(context, entra.Enabled, configuration);
            o.ForwardChallenge = AdminTokenAuthenticationHandler.SchemeName;
            o.ForwardForbid = AdminTokenAuthenticationHandler.SchemeName;
        });

        var authorization = services.AddAuthorizationBuilder();
        foreach (var (policy, roles) in ControlPlanePolicies.Allowed)
        {
            authorization.AddPolicy(policy, p => p
                .AddAuthenticationSchemes(SignInSchemes.ControlPlane)
                .RequireAuthenticatedUser()
                .RequireClaim(ControlPlaneCaller.RoleClaim, roles));
        }

        return services;
    }

    /// <summary>The gateway's rotation overlap sweep (the function app runs the same sweep from a timer trigger).</summary>
    public static IServiceCollection AddRotationOverlapSweepService(this IServiceCollection services) =>
        services.AddHostedService<RotationOverlapSweepService>();

    /// <summary>The gateway's compliance scan on <c>Gateway:Compliance:ScanInterval</c> (the function app runs the same scan from a timer trigger).</summary>
    public static IServiceCollection AddComplianceScanService(this IServiceCollection services) =>
        services.AddHostedService<Compliance.ComplianceScanService>();

    /// <summary>The gateway's payment grace sweep (the function app has its timer trigger instead).</summary>
    public static IServiceCollection AddPaymentGraceSweepService(this IServiceCollection services) =>
        services.AddHostedService<Billing.PaymentGraceSweepService>();

    /// <summary>A bearer token that did not validate: charged to its address; the kind of failure goes to the audit log, never the token.</summary>
    private static Task RecordFailedSignIn(AuthenticationFailedContext context) =>
        context.HttpContext.RequestServices.GetRequiredService<FailedSignIns>()
            .RecordAsync(context.HttpContext, context.Scheme.Name, context.Exception.GetType().Name);
}
