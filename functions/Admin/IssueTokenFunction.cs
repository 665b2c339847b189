using Gateway.ControlPlane.Apis;
using Gateway.ControlPlane.Audit;
using Gateway.ControlPlane.Security;
using Gateway.Core.Customers;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace Gateway.Functions.Admin;

/// <summary><c>POST /api/admin/v1/tokens</c>: <see cref="TokensApi.IssueToken"/>.</summary>
public sealed class IssueTokenFunction(RoleTokens tokens, CustomerService customers, AuditLog audit)
{
    [Function(nameof(TokensApi.IssueToken))]
    public Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "admin/v1/tokens")] HttpRequest request) =>
        AdminFunction.RunAsync(request, ControlPlanePolicies.Admin, () => TokensApi.IssueToken(request, tokens, customers, audit, request.HttpContext.RequestAborted));
}
