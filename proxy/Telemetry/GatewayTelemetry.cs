using Azure.Monitor.OpenTelemetry.AspNetCore;
using Gateway.Core;
using OpenTelemetry.Instrumentation.AspNetCore;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Gateway.Proxy.Telemetry;

public static class GatewayTelemetry
{
    /// <summary>The standard OpenTelemetry setting that names an OTLP collector (<c>http://collector:4317</c>).</summary>
    public const string OtlpEndpoint = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>The service name exported telemetry carries (Application Insights' cloud role).</summary>
    public const string ServiceName = "gateway";

    /// <summary>
    /// The gateway's instruments, and their export with OpenTelemetry where an exporter is configured: Azure Monitor
    /// when <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> is set (production: infra/ sets it), an OTLP collector when
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, both when both are. With neither, OpenTelemetry is not registered
    /// at all: instruments stay unobserved (dotnet-counters can still read them) and cost nothing on the hot path.
    /// </summary>
    public static IServiceCollection AddGatewayTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddMetrics();
        services.AddSingleton<GatewayMetrics>();

        var azureMonitor = !string.IsNullOrWhiteSpace(configuration[DeploymentSettings.ApplicationInsightsConnectionString]);
        var otlp = !string.IsNullOrWhiteSpace(configuration[OtlpEndpoint]);
        if (!azureMonitor && !otlp)
        {
            return services;
        }

        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(ServiceName))
            .WithMetrics(metrics => metrics.AddMeter(TelemetryNames.Source).AddMeter(TelemetryNames.FrameworkMeters))
            .WithTracing(tracing => tracing.AddSource(TelemetryNames.Source).AddSource(TelemetryNames.FrameworkSources));

        // Probes call the health endpoints every few seconds on every replica: not worth a request span each.
        services.Configure<AspNetCoreTraceInstrumentationOptions>(o => o.Filter = context => !context.Request.Path.StartsWithSegments("/healthz"));
        if (azureMonitor)
        {
            // The distro adds ASP.NET Core and HttpClient instrumentation and exports logs too; sampling follows its
            // defaults or the AzureMonitor configuration section (AzureMonitor:TracesPerSecond, AzureMonitor:SamplingRatio).
            telemetry.UseAzureMonitor();
        }
        else
        {
            telemetry.WithTracing(tracing => tracing.AddAspNetCoreInstrumentation().AddHttpClientInstrumentation());
        }

        if (otlp)
        {
            telemetry.WithMetrics(metrics => metrics.AddOtlpExporter()).WithTracing(tracing => tracing.AddOtlpExporter());
        }

        return services;
    }
}
