using Gateway.Billing;
using Gateway.Billing.Reconciliation;
using Gateway.ControlPlane.Apis;
using Gateway.ControlPlane.Security;
using Gateway.Functions.Admin;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace Gateway.Functions.Billing;

/// <summary><c>GET /api/admin/v1/billing/reconciliation</c>: <see cref="BillingApi.GetBillingReconciliation"/>.</summary>
public sealed class GetBillingReconciliationFunction(BillingTables tables, BillingReconciler reconciler)
{
    [Function(nameof(BillingApi.GetBillingReconciliation))]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "admin/v1/billing/reconciliation")] HttpRequest request) =>
        AdminFunction.RunAsync(request, ControlPlanePolicies.Admin, () => BillingApi.GetBillingReconciliation(
            request.Query["customerId"], request.Query["period"], tables, reconciler, request.HttpContext.RequestAborted));
}
