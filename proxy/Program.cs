using Gateway.Billing;
using Gateway.Compliance;
using Gateway.ControlPlane;
using Gateway.ControlPlane.OpenApi;
using Gateway.Core;
using Gateway.Proxy.Developer;
using Gateway.Proxy.Hosting;
using Gateway.Proxy.Hosting.HealthChecks;
using Gateway.Proxy.Portal;
using Gateway.Proxy.Telemetry;

try
{
    await Gateway.Proxy.GatewayApp.Build(args).RunAsync();
    return 0;
}
catch (Microsoft.Extensions.Options.OptionsValidationException e)
{
    // A configuration mistake is the operator's, not a fault: one line per setting, no stack trace.
    foreach (var failure in e.Failures)
    {
        await Console.Error.WriteLineAsync($"Configuration error: {failure}");
    }

    return 2;
}

namespace Gateway.Proxy
{
    /// <summary>
    /// The gateway host. In single-node mode (the default) one process serves the data plane on port 8080 and
    /// the control plane on 8081 against Table Storage (Azurite locally). Tests build the very same app.
    /// </summary>
    public static class GatewayApp
    {
        public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
        {
            var builder = WebApplication.CreateBuilder(args);
            builder.Configuration.AddPlanCatalogFile();
            configure?.Invoke(builder);

            builder.AddGatewayListeners();
            builder.Services.AddGatewayCore(builder.Configuration);
            builder.Services.AddGatewayProblems();
            builder.Services.AddApiKeysAndMetering(builder.Configuration);
            builder.Services.AddKeyChangeSubscription(builder.Configuration);
            builder.Services.AddGatewayProxy(builder.Configuration);
            builder.Services.AddControlPlane(builder.Configuration);
            builder.Services.AddCompliance(builder.Configuration).AddComplianceEvidence().AddComplianceScanService();
            builder.Services.AddRotationOverlapSweepService();
            builder.Services.AddPaymentGraceSweepService();
            builder.Services.AddBilling(builder.Configuration).AddBillingReportTimer();
            builder.Services.AddPortal(builder.Configuration);
            builder.Services.AddControlPlaneOpenApi();
            builder.Services.AddGatewayTelemetry(builder.Configuration);
            builder.Services.AddGatewayHealthChecks();

            var app = builder.Build();
            app.UseForwardedClientAddress();
            app.UseExceptionHandler();
            app.UseRouting();
            app.UsePlaneSeparation();
            app.UseAdminAuthentication();
            app.MapGatewayProxy();
            app.MapDeveloperUsage();
            app.MapHealthEndpoints();
            app.MapAdminEndpoints();
            app.MapPortal();
            app.MapControlPlaneOpenApi();
            app.MapRouteNotFound();
            return app;
        }
    }
}
