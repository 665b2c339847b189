using Gateway.Compliance;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.ControlPlane.Compliance;

/// <summary>The gateway's detection job: <see cref="ComplianceScan"/> every <see cref="ComplianceOptions.ScanInterval"/> of the injected clock (the function app runs it from a timer).</summary>
public sealed partial class ComplianceScanService(IServiceProvider services, IOptions<ComplianceOptions> options, TimeProvider time, ILogger<ComplianceScanService> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.ScanInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await services.GetRequiredService<ComplianceScan>().RunAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // Storage down, say: the next tick judges the same evidence, and flags grow rather than repeat.
                    ScanFailed(log, e);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The compliance scan failed; it runs again at the next interval.")]
    private static partial void ScanFailed(ILogger logger, Exception exception);
}
