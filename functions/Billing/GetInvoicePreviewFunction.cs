using Gateway.Billing.Invoices;
using Gateway.ControlPlane.Apis;
using Gateway.ControlPlane.Security;
using Gateway.Functions.Admin;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace Gateway.Functions.Billing;

/// <summary><c>GET /api/admin/v1/billing/preview</c>: <see cref="BillingApi.GetInvoicePreview"/>.</summary>
public sealed class GetInvoicePreviewFunction(InvoicePreviewer previews)
{
    [Function(nameof(BillingApi.GetInvoicePreview))]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "admin/v1/billing/preview")] HttpRequest request) =>
        AdminFunction.RunAsync(request, ControlPlanePolicies.AnyRole, () => BillingApi.GetInvoicePreview(
            request.Query["customerId"], request.Query["period"], request.HttpContext, previews, request.HttpContext.RequestAborted));
}
