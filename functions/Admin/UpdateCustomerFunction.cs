using Gateway.ControlPlane.Apis;
using Gateway.ControlPlane.Audit;
using Gateway.ControlPlane.Security;
using Gateway.Core.Customers;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace Gateway.Functions.Admin;

/// <summary><c>PATCH /api/admin/v1/customers/{id}</c>: <see cref="CustomersApi.UpdateCustomer"/>.</summary>
public sealed class UpdateCustomerFunction(CustomerService customers, AuditLog audit)
{
    [Function(nameof(CustomersApi.UpdateCustomer))]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = "admin/v1/customers/{id}")] HttpRequest request, string id) =>
        AdminFunction.RunAsync(request, ControlPlanePolicies.Admin, () => CustomersApi.UpdateCustomer(id, request, customers, audit, request.HttpContext.RequestAborted));
}
