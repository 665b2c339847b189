using Gateway.ControlPlane.Apis;
using Gateway.ControlPlane.Audit;
using Gateway.ControlPlane.Security;
using Gateway.Core.Customers;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace Gateway.Functions.Admin;

/// <summary><c>GET /api/admin/v1/customers/{id}/spend-cap</c>: <see cref="CustomersApi.GetSpendCap"/>.</summary>
public sealed class GetSpendCapFunction(SpendCapService caps)
{
    [Function(nameof(CustomersApi.GetSpendCap))]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "admin/v1/customers/{id}/spend-cap")] HttpRequest request, string id) =>
        AdminFunction.RunAsync(request, ControlPlanePolicies.AnyRole, () => CustomersApi.GetSpendCap(id, request.HttpContext.User, caps, request.HttpContext.RequestAborted));
}

/// <summary><c>PUT /api/admin/v1/customers/{id}/spend-cap</c>: <see cref="CustomersApi.SetSpendCap"/>.</summary>
public sealed class SetSpendCapFunction(SpendCapService caps, AuditLog audit)
{
    [Function(nameof(CustomersApi.SetSpendCap))]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "admin/v1/customers/{id}/spend-cap")] HttpRequest request, string id) =>
        AdminFunction.RunAsync(request, ControlPlanePolicies.ManageKeys, () => CustomersApi.SetSpendCap(id, request, caps, audit, request.HttpContext.RequestAborted));
}
