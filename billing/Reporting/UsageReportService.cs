using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Billing.Reporting;

/// <summary>
/// Single-node mode: runs <see cref="UsageReportJob"/> every <see cref="BillingOptions.ReportInterval"/> in the gateway
/// process (the function app runs the same job from a timer trigger). A failed run is logged and the next one retries:
/// whatever was not delivered is still pending in the watermarks.
/// </summary>
public sealed partial class UsageReportService(IServiceProvider services, IOptions<BillingOptions> options, TimeProvider time, ILogger<UsageReportService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.ReportInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await services.GetRequiredService<BillingTables>().EnsureCreatedAsync(stoppingToken);
                await services.GetRequiredService<UsageReportJob>().RunAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                LogRunFailed(e);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The usage report run failed; the next run retries what is pending.")]
    private partial void LogRunFailed(Exception exception);
}
