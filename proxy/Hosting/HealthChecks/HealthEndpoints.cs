using Gateway.Proxy.Problems;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Gateway.Proxy.Hosting.HealthChecks;

/// <summary>
/// <c>/healthz/live</c>: the process is up and serving (no dependency is checked, so a storage outage never gets a
/// replica restarted). <c>/healthz/ready</c>: Table Storage answers (<c>Degraded</c> when not: cached keys keep serving,
/// so a storage blip must not take every replica out of the load balancer at once) and usage reaches storage
/// (<c>Unhealthy</c>, 503, once flushes have failed for longer than <c>Gateway:Metering:UnhealthyAfter</c>). Both on both
/// ports, GET only, never counted; <c>/healthz</c> is kept as an alias of live. The body is JSON with each check's status.
/// </summary>
public static class HealthEndpoints
{
    public const string Live = "/healthz/live";
    public const string Ready = "/healthz/ready";
    public const string Alias = "/healthz";

    public const string TableStorage = "table-storage";
    public const string UsageFlush = "usage-flush";

    private const string ReadyTag = "ready";

    public static IServiceCollection AddGatewayHealthChecks(this IServiceCollection services)
    {
        services.AddSingleton<TableStorageHealthCheck>();
        services.AddHealthChecks()
            .AddCheck<TableStorageHealthCheck>(TableStorage, HealthStatus.Degraded, [ReadyTag])
            .AddCheck<UsageFlushHealthCheck>(UsageFlush, HealthStatus.Unhealthy, [ReadyTag]);
        return services;
    }

    public static void MapHealthEndpoints(this WebApplication app)
    {
        var live = new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync };
        var ready = new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag), ResponseWriter = WriteAsync };
        foreach (var (path, options) in new[] { (Live, live), (Alias, live), (Ready, ready) })
        {
            app.MapHealthChecks(path, options).WithMetadata(AnyPlaneMetadata.Instance, new HttpMethodMetadata([HttpMethods.Get]));
        }
    }

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.Headers.XContentTypeOptions = DataPlaneProblems.NoSniff;
        return context.Response.WriteAsJsonAsync(new HealthBody(
            report.Status.ToString(),
            report.Entries.ToDictionary(e => e.Key, e => new CheckBody(e.Value.Status.ToString(), e.Value.Description, Math.Round(e.Value.Duration.TotalMilliseconds, 1)))));
    }

    private sealed record HealthBody(string Status, Dictionary<string, CheckBody> Checks);

    private sealed record CheckBody(string Status, string? Description, double DurationMs);
}
