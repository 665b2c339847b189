using Gateway.ControlPlane.Apis;
using Gateway.ControlPlane.Contracts;
using Gateway.ControlPlane.Security;
using Gateway.Core.Customers;
using Gateway.Core.Usage;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace Gateway.Functions.Admin;

/// <summary><c>GET /api/admin/v1/usage/customers</c>: <see cref="UsageApi.GetCustomerUsage"/>.</summary>
public sealed class GetCustomerUsageFunction(CustomerService customers, UsageReporter reporter, TimeProvider time)
{
    [Function(nameof(UsageApi.GetCustomerUsage))]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "admin/v1/usage/customers")] HttpRequest request) =>
        AdminFunction.RunAsync(request, ControlPlanePolicies.Review, () => UsageApi.GetCustomerUsage(CustomerUsageQuery.Of(request.Query), customers, reporter, time, request.HttpContext.RequestAborted));
}
