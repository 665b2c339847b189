using Gateway.Proxy.Hosting;
using Gateway.Proxy.Metering;

namespace Gateway.Proxy.Admin;

/// <summary>Process counters for operators and benchmarks: allocation, GC, and Table Storage operations.</summary>
public sealed record GatewayStats(long AllocatedBytes, int Gen0Collections, int Gen1Collections, int Gen2Collections, long TableOperations, string Writer);

public static class StatsApi
{
    /// <summary><c>GET /admin/v1/stats</c>: cheap to call; benchmarks read it before and after a load run.</summary>
    public static void MapStatsApi(this WebApplication app) =>
        app.MapGet("/admin/v1/stats", (UsageFlushService flusher, UsageRecorder recorder) => TypedResults.Ok(new GatewayStats(
                GC.GetTotalAllocatedBytes(precise: false),
                GC.CollectionCount(0),
                GC.CollectionCount(1),
                GC.CollectionCount(2),
                flusher.TableOperations,
                recorder.Writer)))
            .RequireAuthorization(AdminTokenAuthenticationHandler.Policy)
            .WithMetadata(AdminPlaneMetadata.Instance);
}
