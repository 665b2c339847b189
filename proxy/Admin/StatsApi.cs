using Gateway.ControlPlane.Security;
using Gateway.Core.Storage;
using Gateway.Proxy.Metering;
using Microsoft.AspNetCore.Mvc;

namespace Gateway.Proxy.Admin;

/// <summary>
/// Process counters for operators and benchmarks: allocation, GC, and Table Storage use. <c>TableOperations</c> counts
/// usage-flush transactions; <c>StorageRequests</c> counts every request sent to Table Storage (key reads and
/// refreshes, quota baselines, flushes, retries); <c>JournalCommits</c> the usage journal's group commits (0 without a journal);
/// <c>QuotaLeaseReads</c>/<c>QuotaLeaseWrites</c> the quota leases table's row reads and writes (0 with leases off).
/// </summary>
public sealed record GatewayStats(long AllocatedBytes, int Gen0Collections, int Gen1Collections, int Gen2Collections, long TableOperations, long StorageRequests, string Writer, long JournalCommits, long QuotaLeaseReads, long QuotaLeaseWrites);

public static class StatsApi
{
    /// <summary>
    /// <c>GET /admin/v1/stats</c> (admin): cheap to call; benchmarks read it before and after a load run. A gateway
    /// process's own counters, so the gateway alone serves it (the function app has no such process).
    /// </summary>
    public static void MapStatsApi(this RouteGroupBuilder admin) =>
        admin.MapGet("/stats", (UsageFlushService flusher, UsageRecorder recorder, TableRequestCounter storage, [FromServices] UsageJournal? journal, [FromServices] Quotas.QuotaLeases? leases) => TypedResults.Ok(new GatewayStats(
                GC.GetTotalAllocatedBytes(precise: false),
                GC.CollectionCount(0),
                GC.CollectionCount(1),
                GC.CollectionCount(2),
                flusher.TableOperations,
                storage.Requests,
                recorder.Writer,
                journal?.Commits ?? 0,
                leases?.Reads ?? 0,
                leases?.Writes ?? 0)))
            .WithName("GetGatewayStats")
            .WithSummary("Process counters of this gateway (allocation, GC, Table Storage use)")
            .RequireAuthorization(ControlPlanePolicies.Admin)
            .ProducesProblem(401)
            .ProducesProblem(403);
}
