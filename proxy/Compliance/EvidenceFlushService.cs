using Gateway.Compliance;
using Microsoft.Extensions.Options;

namespace Gateway.Proxy.Compliance;

/// <summary>
/// Writes the gateway's compliance evidence (<see cref="EvidenceRecorder"/>) and the canaries delivered (<see cref="CanaryBook"/>) every
/// <see cref="ComplianceOptions.FlushInterval"/> of the injected clock, and a last time on graceful shutdown.
/// A failed flush leaves its cells dirty: the next one writes them (rows are totals, so nothing is counted twice).
/// </summary>
public sealed partial class EvidenceFlushService(EvidenceRecorder evidence, CanaryBook canaries, IOptions<ComplianceOptions> options, TimeProvider time, ILogger<EvidenceFlushService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.FlushInterval, time);
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
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await FlushAsync(deadline.Token);
    }

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        try
        {
            await evidence.FlushAsync(cancellationToken);
            await canaries.FlushAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogFlushFailed(logger, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The compliance evidence flush failed; the next flush writes what it held.")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception);
}
