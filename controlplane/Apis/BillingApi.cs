using System.Globalization;
using Gateway.Billing;
using Gateway.Billing.Reporting;
using Gateway.ControlPlane.Audit;
using Gateway.ControlPlane.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Gateway.ControlPlane.Apis;

/// <summary><c>/admin/v1/billing</c>: billing operations (issue #11). Today: report usage to Stripe now.</summary>
public static class BillingApi
{
    /// <summary>The audit-log action of a manual report run.</summary>
    public const string ReportRunAction = "billing.report-run";

    public static RouteGroupBuilder MapBillingApi(this RouteGroupBuilder api)
    {
        api.MapPost("/billing/report", RunBillingReport)
            .WithName(nameof(RunBillingReport))
            .WithSummary("Report billable usage to Stripe now, through the current moment; answers every meter event sent (a dry run without a Stripe key)")
            .RequireAuthorization(ControlPlanePolicies.Admin);
        return api;
    }

    public static async Task<Ok<UsageReportRun>> RunBillingReport(HttpContext context, BillingTables tables, UsageReportJob job, AuditLog audit, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync(cancellationToken);
        var run = await job.RunAsync(cancellationToken);
        var summary = string.Create(
            CultureInfo.InvariantCulture,
            $"{(run.DryRun ? "dry run: " : "")}{run.Events.Count} meter events, {run.ValueDelivered} calls delivered, {run.Failed} failed, {run.Refused} refused, {run.UnlinkedCustomers.Count} customers unlinked");
        await audit.RecordAsync(context, ReportRunAction, "billing", summary, cancellationToken);
        return TypedResults.Ok(run);
    }
}
