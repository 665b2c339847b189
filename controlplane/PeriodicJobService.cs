using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.ControlPlane;

/// <summary>
/// A control-plane job the gateway runs in-process every <see cref="Interval"/> of the injected clock (the function app
/// runs the same job from a timer trigger). A run that fails (storage down, say) is logged and the next tick runs
/// again; the jobs are idempotent, so a missed or repeated run changes nothing but timing.
/// </summary>
public abstract partial class PeriodicJobService(TimeProvider time, ILogger log) : BackgroundService
{
    /// <summary>How often the job runs.</summary>
    protected abstract TimeSpan Interval { get; }

    /// <summary>The job's name in the log.</summary>
    protected abstract string Name { get; }

    protected abstract Task RunOnceAsync(CancellationToken cancellationToken);

    protected sealed override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await RunOnceAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    RunFailed(log, Name, e);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The {Job} failed; it runs again at the next interval.")]
    private static partial void RunFailed(ILogger logger, string job, Exception exception);
}
