using Gateway.Billing;
using Gateway.Billing.Reporting;
using Gateway.ControlPlane.Apis;
using Gateway.ControlPlane.Audit;
using Gateway.ControlPlane.Security;
using Gateway.Functions.Admin;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace Gateway.Functions.Billing;

/// <summary><c>POST /api/admin/v1/billing/report</c>: <see cref="BillingApi.RunBillingReport"/>.</summary>
public sealed class RunBillingReportFunction(BillingTables tables, UsageReportJob job, AuditLog audit)
{
    [Function(nameof(BillingApi.RunBillingReport))]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "admin/v1/billing/report")] HttpRequest request) =>
        AdminFunction.RunAsync(request, ControlPlanePolicies.Admin, () => BillingApi.RunBillingReport(request.HttpContext, tables, job, audit, request.HttpContext.RequestAborted));
}
