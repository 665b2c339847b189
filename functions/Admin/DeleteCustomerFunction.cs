using Gateway.ControlPlane.Apis;
using Gateway.ControlPlane.Audit;
using Gateway.ControlPlane.Security;
using Gateway.Core.Customers;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace Gateway.Functions.Admin;

/// <summary><c>DELETE /api/admin/v1/customers/{id}</c>: <see cref="CustomersApi.DeleteCustomer"/>.</summary>
public sealed class DeleteCustomerFunction(CustomerService customers, AuditLog audit)
{
    [Function(nameof(CustomersApi.DeleteCustomer))]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "admin/v1/customers/{id}")] HttpRequest request, string id) =>
        AdminFunction.RunAsync(request, ControlPlanePolicies.Admin, () => CustomersApi.DeleteCustomer(id, request.HttpContext, customers, audit, request.HttpContext.RequestAborted));
}
