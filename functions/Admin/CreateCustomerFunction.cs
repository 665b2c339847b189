using Gateway.Billing;
using Gateway.ControlPlane.Apis;
using Gateway.ControlPlane.Billing;
using Gateway.ControlPlane.Audit;
using Gateway.ControlPlane.Security;
using Gateway.Core.Customers;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace Gateway.Functions.Admin;

/// <summary><c>POST /api/admin/v1/customers</c>: <see cref="CustomersApi.CreateCustomer"/>.</summary>
public sealed class CreateCustomerFunction(CustomerService customers, AuditLog audit, BillingTables billingTables, StripeCustomerLinks links, BillingEnforcement billing)
{
    [Function(nameof(CustomersApi.CreateCustomer))]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "admin/v1/customers")] HttpRequest request) =>
        AdminFunction.RunAsync(request, ControlPlanePolicies.Admin, () => CustomersApi.CreateCustomer(request, customers, audit, billingTables, links, billing, request.HttpContext.RequestAborted));
}
