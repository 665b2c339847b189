using Gateway.ControlPlane.Apis;
using Gateway.ControlPlane.Contracts;
using Gateway.ControlPlane.Security;
using Gateway.Core.Customers;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace Gateway.Functions.Admin;

/// <summary><c>GET /api/admin/v1/customers</c>: <see cref="CustomersApi.ListCustomers"/>.</summary>
public sealed class ListCustomersFunction(CustomerService customers)
{
    [Function(nameof(CustomersApi.ListCustomers))]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "admin/v1/customers")] HttpRequest request) =>
        AdminFunction.RunAsync(request, ControlPlanePolicies.Review, () => CustomersApi.ListCustomers(CustomerQuery.Of(request.Query), customers, request.HttpContext.RequestAborted));
}
