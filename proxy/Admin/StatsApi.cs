using Gateway.Core.Storage;
using Gateway.Proxy.Hosting;
using Gateway.Proxy.Metering;

namespace Gateway.Proxy.Admin;

/// <summary>
/// Process counters for operators and benchmarks: allocation, GC, and Table Storage use. <c>TableOperations</c> counts
/// usage-flush transactions; <c>StorageRequests</c> counts every request sent to Table Storage (key reads and
/// refreshes, quota baselines, flushes, retries).
/// </summary>
public sealed record GatewayStats(long AllocatedBytes, int Gen0Collections, int Gen1Collections, int Gen2Collections, long TableOperations, long StorageRequests, string Writer);

public static class StatsApi
{
    /// <summary><c>GET /admin/v1/stats</c>: cheap to call; benchmarks read it before and after a load run.</summary>
    public static void MapStatsApi(this WebApplication app) =>
        app.MapGet("/admin/v1/stats", (UsageFlushService flusher, UsageRecorder recorder, TableRequestCounter storage) => TypedResults.Ok(new GatewayStats(
                GC.GetTotalAllocatedBytes(precise: false),
                GC.CollectionCount(0),
                GC.CollectionCount(1),
                GC.CollectionCount(2),
                flusher.TableOperations,
                storage.Requests,
                recorder.Writer)))
            .RequireAuthorization(AdminTokenAuthenticationHandler.Policy)
            .WithMetadata(AdminPlaneMetadata.Instance);
}
