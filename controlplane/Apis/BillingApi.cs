using System.Globalization;
using Gateway.Billing;
using Gateway.Billing.Catalog;
using Gateway.Billing.Invoices;
using Gateway.Billing.Reconciliation;
using Gateway.Billing.Reporting;
using Gateway.ControlPlane.Http;
using Gateway.ControlPlane.Audit;
using Gateway.ControlPlane.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Gateway.Core.Problems;

namespace Gateway.ControlPlane.Apis;

/// <summary>
/// <c>/admin/v1/billing</c>: billing operations (issue #11): report usage to Stripe now; a customer's invoice preview
/// for a month from the ledger and the plans' prices; and the reconciliation of ledger, watermarks and Stripe.
/// </summary>
public static class BillingApi
{
    /// <summary>The audit-log action of a manual report run.</summary>
    public const string ReportRunAction = "billing.report-run";

    /// <summary>The audit-log action of a catalog sync.</summary>
    public const string CatalogSyncedAction = "billing.catalog-synced";

    public static RouteGroupBuilder MapBillingApi(this RouteGroupBuilder api)
    {
        api.MapPost("/billing/report", RunBillingReport)
            .WithName(nameof(RunBillingReport))
            .WithSummary("Report billable usage to Stripe now, through the current moment; answers every meter event sent (a dry run without a Stripe key)")
            .RequireAuthorization(ControlPlanePolicies.Admin);
        api.MapPost("/billing/catalog/sync", SyncBillingCatalog)
            .WithName(nameof(SyncBillingCatalog))
            .WithSummary("Plans → Stripe: the meter, a product and a monthly price per plan, a metered overage price per billing plan; idempotent, answers what it changed")
            .RequireAuthorization(ControlPlanePolicies.Admin)
            .ProducesProblem(StatusCodes.Status409Conflict);
        api.MapGet("/billing/preview", GetInvoicePreview)
            .WithName(nameof(GetInvoicePreview))
            .WithSummary("A customer's invoice for a UTC month (yyyy-MM, default the current one) as the ledger and the plans' prices make it; a developer sees their own customer's only")
            .RequireAuthorization(ControlPlanePolicies.AnyRole)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/billing/reconciliation", GetBillingReconciliation)
            .WithName(nameof(GetBillingReconciliation))
            .WithSummary("A customer's month compared three ways (ledger, what was reported, what Stripe's meter holds), with every hour that differs and why")
            .RequireAuthorization(ControlPlanePolicies.Admin)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    public static async Task<Results<Ok<CatalogSyncRun>, ProblemHttpResult>> SyncBillingCatalog(HttpContext context, IOptions<StripeOptions> stripe, CatalogSync sync, AuditLog audit, CancellationToken cancellationToken)
    {
        if (!stripe.Value.Enabled)
        {
            return ProblemResults.From(ApiProblem.Conflict("Billing is a dry run: no Stripe key is configured (Gateway:Stripe:SecretKey), so there is no Stripe catalog to sync."));
        }

        var run = await sync.RunAsync(cancellationToken);
        var summary = string.Create(CultureInfo.InvariantCulture, $"{run.Changed} of {run.Changes.Count} catalog objects changed: {string.Join(", ", run.Changes.Where(c => c.Action != CatalogActions.Unchanged).Select(c => $"{c.Kind} {c.Name} {c.Action}"))}");
        await audit.RecordAsync(context, CatalogSyncedAction, "billing", summary, cancellationToken);
        return TypedResults.Ok(run);
    }

    public static async Task<Results<Ok<InvoicePreview>, ProblemHttpResult>> GetInvoicePreview(string? customerId, string? period, HttpContext context, InvoicePreviewer previews, CancellationToken cancellationToken)
    {
        if (KeysApi.Hidden(context.User, customerId) is { } hidden)
        {
            return ProblemResults.From(hidden);
        }

        var preview = await previews.PreviewAsync(customerId, period, cancellationToken);
        return preview.Succeeded ? TypedResults.Ok(preview.Value!) : ProblemResults.From(preview.Problem!);
    }

    public static async Task<Results<Ok<Reconciliation>, ProblemHttpResult>> GetBillingReconciliation(string? customerId, string? period, BillingTables tables, BillingReconciler reconciler, CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync(cancellationToken);
        var reconciliation = await reconciler.ReconcileAsync(customerId, period, cancellationToken);
        return reconciliation.Succeeded ? TypedResults.Ok(reconciliation.Value!) : ProblemResults.From(reconciliation.Problem!);
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
