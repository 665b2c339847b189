using System.Diagnostics;

namespace Gateway.Proxy.Metering;

/// <summary>
/// The journal's group commit: waits until a count is queued (or a flush asks for a commit), takes everything queued
/// by then, appends it as one batch, fsyncs, and marks the values journaled. While one commit is on disk the next
/// batch accumulates, and commits start at least <see cref="UsageJournal.CommitInterval"/> (5 ms) apart, so the
/// commits per second follow the disk and that bound, not the request rate; a call is durable at most one interval
/// plus one write and fsync after it was counted. The first commit starts a new segment
/// holding every live count (the replayed ones included). Registered before <see cref="UsageFlushService"/>, so it
/// stops after the shutdown flush, which asks it for a last commit.
/// </summary>
public sealed partial class UsageJournalWriter(
    UsageJournal journal,
    IEnumerable<IUsageRowSource> sources,
    TimeProvider time,
    ILogger<UsageJournalWriter> logger) : BackgroundService
{
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The loop runs on a thread of its own: a write and an fsync block for milliseconds, and on a gateway with one
    /// core the thread pool has one worker, which would stop serving for as long (measured: proxy CPU busy fell from
    /// 97 % to 75 % when the commit ran on the pool).
    /// </summary>
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stoppingToken)
    {
        var batch = new List<(FlushableCount Count, long Value)>();
        var waiters = new List<TaskCompletionSource>();
        var lastCommit = 0L;
        while (true)
        {
            // Pacing, not logic: real time on this thread only, so no test clock can hold a commit back.
            var wait = journal.CommitInterval - Stopwatch.GetElapsedTime(lastCommit);
            if (wait > TimeSpan.Zero)
            {
                Thread.Sleep(wait);
            }

            lastCommit = Stopwatch.GetTimestamp();

            // Waiters are taken before the queue is drained: what they wait for is in this batch.
            journal.TakeWaiters(waiters);
            batch.Clear();
            while (journal.Pending.TryRead(out var count))
            {
                if (count is not null)
                {
                    batch.Add((count, count.TakeForCommit()));
                }
            }

            try
            {
                if (batch.Count > 0 || waiters.Count > 0 || !journal.Started)
                {
                    journal.Commit(batch, Live);
                }

                waiters.ForEach(static w => w.TrySetResult());
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Nothing is marked journaled: the counts go back to the queue, the waiters wait for the retry.
                LogCommitFailed(logger, e);
                batch.ForEach(b => b.Count.Requeue());
                journal.Requeue(waiters);
                if (!Wait(Task.Delay(RetryAfterFailure, time, stoppingToken)))
                {
                    return;
                }

                continue;
            }

            if (journal.HasWaiters)
            {
                continue;
            }

            // Blocks this thread only; the writer that queues a count completes the wait through the pool.
            var ready = journal.Pending.WaitToReadAsync(stoppingToken);
            if (!(ready.IsCompletedSuccessfully ? ready.Result : Wait(ready.AsTask())))
            {
                // Stopping: the shutdown flush (stopped before this) has had its last commit.
                return;
            }
        }
    }

    /// <summary>Waits for <paramref name="task"/>; false when it was cancelled (stopping).</summary>
    private static bool Wait(Task<bool> task)
    {
        try
        {
            return task.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static bool Wait(Task task)
    {
        try
        {
            task.GetAwaiter().GetResult();
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private IEnumerable<FlushableCount> Live() => sources.SelectMany(s => s.FlushableCounts);

    [LoggerMessage(Level = LogLevel.Error, Message = "Writing the usage journal failed; retrying in a second. Counts stay in memory and storage is not written past the journal meanwhile.")]
    private static partial void LogCommitFailed(ILogger logger, Exception exception);
}
