using Gateway.Core;
using Gateway.Core.Storage;
using Gateway.Core.Usage;
using Gateway.Proxy.Telemetry;
using Microsoft.Extensions.Options;

namespace Gateway.Proxy.Metering;

/// <summary>What one flush did. <see cref="Deferred"/>: dirty rows left for a later flush by the partition budget.</summary>
public readonly record struct FlushResult(int Rows, int Batches, int FailedBatches, int Deferred = 0)
{
    /// <summary>Storage holds every row this flush gathered: none failed, none deferred.</summary>
    public bool Complete => FailedBatches == 0 && Deferred == 0;
}

/// <summary>
/// Writes what the row sources (<see cref="UsageRecorder"/>, <see cref="Quotas.QuotaLedger"/>) counted to the usage table: on an interval,
/// and a last time on graceful shutdown (after Kestrel has drained in-flight requests). Only changed cells are
/// written, grouped by partition into transactions of at most 100 rows, so table writes grow with the number of
/// active cells, not with the request rate. Rows hold cumulative counts (upsert-replace): a batch that failed, or
/// that succeeded without us hearing so, is simply written again with the newer count.
/// <para>
/// Partition budget: an interval flush writes at most <see cref="MeteringOptions.PartitionRowsPerSecond"/> ×
/// <see cref="MeteringOptions.FlushInterval"/> rows into one partition (one customer's month), oldest first
/// (<see cref="FlushableCount.StoredBefore"/>), and leaves the rest dirty for the next flush, so a customer with
/// many active keys never asks more of a Table Storage partition than it sustains. The shutdown flush writes everything.
/// </para>
/// Without a journal, a hard crash loses what was counted since it was last written: at most one interval, or for a
/// partition with more dirty rows than its budget, the intervals its backlog needs (<see cref="UsageFlushStatus.BacklogFlushes"/>).
/// With one (<see cref="UsageJournal"/>), the flush writes journaled values, after asking for a commit, and a crash
/// loses only what was counted since the last commit; the next run replays the rest.
/// </summary>
public sealed partial class UsageFlushService(
    IEnumerable<IUsageRowSource> sources,
    IUnflushedUsage writer,
    UsageTable table,
    UsageFlushStatus status,
    GatewayMetrics metrics,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<UsageFlushService> logger,
    UsageJournal? journal = null) : BackgroundService
{
    /// <summary>How long a graceful stop keeps trying to write what was counted (the host allows 30 s in all).</summary>
    public static readonly TimeSpan ShutdownFlushDeadline = TimeSpan.FromSeconds(15);

    /// <summary>The wait between two attempts of the shutdown flush while storage fails.</summary>
    public static readonly TimeSpan ShutdownRetryDelay = TimeSpan.FromMilliseconds(200);

    private readonly SemaphoreSlim _flushing = new(1, 1);
    private Task? _stopping;
    private long _tableOperations;

    /// <summary>Table transactions submitted since start (for the stats endpoint and benchmarks).</summary>
    public long TableOperations => Interlocked.Read(ref _tableOperations);

    /// <summary>The most rows an interval flush writes into one partition.</summary>
    public int PartitionBudget { get; } = options.Value.Metering.PartitionBudget;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Metering.FlushInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync(PartitionBudget, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Stops the interval flush, then writes everything, retrying every <see cref="ShutdownRetryDelay"/> while storage
    /// fails, until all is written or <see cref="ShutdownFlushDeadline"/> (on the injected clock) has passed.
    /// Runs once: a host stopped twice (<c>StopAsync</c>, then disposed) awaits the first stop again instead of
    /// starting a second shutdown flush after the journal's commit loop has already stopped.
    /// </summary>
    public override Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_flushing)
        {
            return _stopping ??= StopOnceAsync(cancellationToken);
        }
    }

    private async Task StopOnceAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        using var deadline = new CancellationTokenSource(ShutdownFlushDeadline, time);
        try
        {
            while (!(await FlushAsync(deadline.Token)).Complete)
            {
                await Task.Delay(ShutdownRetryDelay, time, deadline.Token);
            }

            return;
        }
        catch (OperationCanceledException)
        {
            // Only the deadline cancels here: a storage call cancelled otherwise counts as a failed batch (WriteAsync).
        }

        LogShutdownFlushIncomplete(logger);
    }

    /// <summary>Writes every changed cell now, whatever the partition budget. Safe to call at any time; concurrent calls run one after another.</summary>
    public Task<FlushResult> FlushAsync(CancellationToken cancellationToken) => FlushAsync(int.MaxValue, cancellationToken);

    /// <summary>Writes the changed cells, at most <paramref name="rowsPerPartition"/> per partition, oldest first.</summary>
    public async Task<FlushResult> FlushAsync(int rowsPerPartition, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rowsPerPartition, 1);
        await _flushing.WaitAsync(cancellationToken);
        try
        {
            var started = status.FlushStarting();
            if (journal is not null)
            {
                // The flush writes journaled values only: a commit first, so they hold every call made before it started.
                await journal.SyncAsync(cancellationToken);
            }

            var previousStarted = status.LastFlushStarted;
            var pending = new Dictionary<string, List<UsageRow>>(StringComparer.Ordinal);
            foreach (var source in sources)
            {
                foreach (var row in source.DirtyRows(writer.Writer))
                {
                    row.Count.FoundDirty(previousStarted);
                    if (!pending.TryGetValue(row.Entity.PartitionKey, out var rows))
                    {
                        pending[row.Entity.PartitionKey] = rows = [];
                    }

                    rows.Add(row);
                }
            }

            var (deferred, backlogFlushes) = Budget(pending, rowsPerPartition);
            var result = await WriteAsync(pending, started, cancellationToken) with { Deferred = deferred };
            metrics.Flushed(status.FlushEnded(started, backlogFlushes), result);
            Forget();
            return result;
        }
        finally
        {
            _flushing.Release();
        }
    }

    /// <summary>
    /// Cuts each partition's rows to the budget, keeping the oldest (the earliest <see cref="FlushableCount.StoredBefore"/>):
    /// a row left out now is older than every row of the next flush but those left out with it, so each row waits
    /// at most as many flushes as its partition's rows need. Returns the rows left out and the flushes the largest partition needs.
    /// </summary>
    private static (int Deferred, int BacklogFlushes) Budget(Dictionary<string, List<UsageRow>> pending, int rowsPerPartition)
    {
        int deferred = 0, backlogFlushes = 1;
        foreach (var rows in pending.Values)
        {
            if (rows.Count <= rowsPerPartition)
            {
                continue;
            }

            backlogFlushes = Math.Max(backlogFlushes, (rows.Count + rowsPerPartition - 1) / rowsPerPartition);
            rows.Sort(static (a, b) => a.Count.StoredBefore.CompareTo(b.Count.StoredBefore));
            deferred += rows.Count - rowsPerPartition;
            rows.RemoveRange(rowsPerPartition, rows.Count - rowsPerPartition);
        }

        return (deferred, backlogFlushes);
    }

    private async Task<FlushResult> WriteAsync(Dictionary<string, List<UsageRow>> pending, long started, CancellationToken cancellationToken)
    {
        int rowsWritten = 0, batches = 0, failed = 0;
        foreach (var rows in pending.Values)
        {
            foreach (var batch in rows.Chunk(UsageTable.MaxBatchSize))
            {
                batches++;
                Interlocked.Increment(ref _tableOperations);
                try
                {
                    await table.WriteBatchAsync([.. batch.Select(b => b.Entity)], cancellationToken);
                    foreach (var row in batch)
                    {
                        row.Written(started);
                    }

                    rowsWritten += batch.Length;
                }
                catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    // Left unmarked: the next flush writes these cells again, with their newer counts.
                    failed++;
                    if (StorageFaults.IsStorageFault(e, cancellationToken))
                    {
                        // Expected while storage is down, once per attempt: one line, not a stack trace each time.
                        LogBatchFailed(logger, batch.Length, FirstLine(e));
                    }
                    else
                    {
                        LogBatchFaulted(logger, batch.Length, e);
                    }
                }
            }
        }

        return new FlushResult(rowsWritten, batches, failed);
    }

    private void Forget()
    {
        var now = time.GetUtcNow();
        foreach (var source in sources)
        {
            source.ForgetFlushed(now);
        }
    }

    /// <summary>The first line of the innermost message, e.g. "Connection refused (127.0.0.1:10002)".</summary>
    private static string FirstLine(Exception e)
    {
        var message = (e is AggregateException { InnerExceptions: [.., var last] } ? last : e).Message;
        var end = message.AsSpan().IndexOfAny('\r', '\n');
        return end < 0 ? message : message[..end];
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Writing {Rows} usage rows failed ({Reason}); they will be written with the next flush.")]
    private static partial void LogBatchFailed(ILogger logger, int rows, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Writing {Rows} usage rows failed; they will be written with the next flush.")]
    private static partial void LogBatchFaulted(ILogger logger, int rows, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Usage could not be written completely before shutdown; counts since the last successful flush are lost.")]
    private static partial void LogShutdownFlushIncomplete(ILogger logger);
}
