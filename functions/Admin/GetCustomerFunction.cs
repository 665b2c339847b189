using Gateway.ControlPlane.Apis;
using Gateway.ControlPlane.Security;
using Gateway.Core.Customers;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace Gateway.Functions.Admin;

/// <summary><c>GET /api/admin/v1/customers/{id}</c>: <see cref="CustomersApi.GetCustomer"/>.</summary>
public sealed class GetCustomerFunction(CustomerService customers)
{
    [Function(nameof(CustomersApi.GetCustomer))]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "admin/v1/customers/{id}")] HttpRequest request, string id) =>
        AdminFunction.RunAsync(request, ControlPlanePolicies.AnyRole, () => CustomersApi.GetCustomer(id, request.HttpContext.User, customers, request.HttpContext.RequestAborted));
}
