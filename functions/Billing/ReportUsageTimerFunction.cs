using Gateway.Billing;
using Gateway.Billing.Reporting;
using Microsoft.Azure.Functions.Worker;

namespace Gateway.Functions.Billing;

/// <summary>
/// Reports billable usage to Stripe every 15 minutes (the CRON below; single-node mode uses
/// <c>Gateway:Billing:ReportInterval</c> instead): the same <see cref="UsageReportJob"/> the gateway runs.
/// A run that fails leaves its events pending; the next one sends them.
/// </summary>
public sealed class ReportUsageTimerFunction(BillingTables tables, UsageReportJob job)
{
    public const string Schedule = "0 */15 * * * *";

    [Function("ReportUsageToStripe")]
    public async Task Run([TimerTrigger(Schedule)] TimerInfo timer, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync(cancellationToken);
        await job.RunAsync(cancellationToken);
    }
}
