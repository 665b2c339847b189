using Gateway.Core;
using Gateway.Core.Storage;
using Gateway.Core.Usage;
using Gateway.Proxy.Telemetry;
using Microsoft.Extensions.Options;

namespace Gateway.Proxy.Metering;

/// <summary>What one flush did.</summary>
public readonly record struct FlushResult(int Rows, int Batches, int FailedBatches)
{
    public bool Complete => FailedBatches == 0;
}

/// <summary>
/// Writes what the row sources (<see cref="UsageRecorder"/>, <see cref="Quotas.QuotaLedger"/>) counted to the usage table: on an interval,
/// and a last time on graceful shutdown (after Kestrel has drained in-flight requests). Only changed cells are
/// written, grouped by partition into transactions of at most 100 rows, so table writes grow with the number of
/// active cells, not with the request rate. Rows hold cumulative counts (upsert-replace): a batch that failed, or
/// that succeeded without us hearing so, is simply written again with the newer count.
/// On a hard crash, what was counted since the last successful flush (at most one interval) is lost.
/// </summary>
public sealed partial class UsageFlushService(
    IEnumerable<IUsageRowSource> sources,
    IUnflushedUsage writer,
    UsageTable table,
    UsageFlushStatus status,
    GatewayMetrics metrics,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<UsageFlushService> logger) : BackgroundService
{
    private static readonly TimeSpan ShutdownFlushDeadline = TimeSpan.FromSeconds(15);
    private readonly SemaphoreSlim _flushing = new(1, 1);
    private long _tableOperations;

    /// <summary>Table transactions submitted since start (for the stats endpoint and benchmarks).</summary>
    public long TableOperations => Interlocked.Read(ref _tableOperations);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Metering.FlushInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        using var deadline = new CancellationTokenSource(ShutdownFlushDeadline);
        while (!deadline.IsCancellationRequested)
        {
            try
            {
                if ((await FlushAsync(deadline.Token)).Complete)
                {
                    return;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(200), deadline.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        LogShutdownFlushIncomplete(logger);
    }

    /// <summary>Writes every changed cell now. Safe to call at any time; concurrent calls run one after another.</summary>
    public async Task<FlushResult> FlushAsync(CancellationToken cancellationToken)
    {
        await _flushing.WaitAsync(cancellationToken);
        try
        {
            var started = status.FlushStarting();
            var pending = new Dictionary<string, List<UsageRow>>(StringComparer.Ordinal);
            foreach (var source in sources)
            {
                foreach (var row in source.DirtyRows(writer.Writer))
                {
                    if (!pending.TryGetValue(row.Entity.PartitionKey, out var rows))
                    {
                        pending[row.Entity.PartitionKey] = rows = [];
                    }

                    rows.Add(row);
                }
            }

            var result = await WriteAsync(pending, cancellationToken);
            metrics.Flushed(status.FlushEnded(started, result), result);
            Forget();
            return result;
        }
        finally
        {
            _flushing.Release();
        }
    }

    private async Task<FlushResult> WriteAsync(Dictionary<string, List<UsageRow>> pending, CancellationToken cancellationToken)
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
                        row.Written();
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
