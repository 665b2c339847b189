using Gateway.Billing;
using Gateway.Billing.Catalog;
using Gateway.ControlPlane.Apis;
using Gateway.ControlPlane.Audit;
using Gateway.ControlPlane.Security;
using Gateway.Functions.Admin;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Options;

namespace Gateway.Functions.Billing;

/// <summary><c>POST /api/admin/v1/billing/catalog/sync</c>: <see cref="BillingApi.SyncBillingCatalog"/> (also run at deploy time, see infra/README.md).</summary>
public sealed class SyncBillingCatalogFunction(IOptions<StripeOptions> stripe, CatalogSync sync, AuditLog audit)
{
    [Function(nameof(BillingApi.SyncBillingCatalog))]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "admin/v1/billing/catalog/sync")] HttpRequest request) =>
        AdminFunction.RunAsync(request, ControlPlanePolicies.Admin, () => BillingApi.SyncBillingCatalog(request.HttpContext, stripe, sync, audit, request.HttpContext.RequestAborted));
}
