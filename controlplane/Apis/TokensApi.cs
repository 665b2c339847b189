using Gateway.ControlPlane.Audit;
using Gateway.ControlPlane.Http;
using Gateway.ControlPlane.Security;
using Gateway.Core.Customers;
using Gateway.Core.Problems;
using Gateway.Core.Validation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Gateway.ControlPlane.Apis;

/// <summary>Body of <c>POST /admin/v1/tokens</c>: a role, a customer for role developer, and whom the token is for.</summary>
public sealed record IssueTokenRequest(string? Role, string? CustomerId, string? Subject);

/// <summary><c>/admin/v1/tokens</c>: signed, expiring role tokens for one machine (admin only).</summary>
public static class TokensApi
{
    public static RouteGroupBuilder MapTokensApi(this RouteGroupBuilder api)
    {
        api.MapPost("/tokens", IssueToken)
            .WithName(nameof(IssueToken))
            .WithSummary("Issue a signed, expiring token for a role")
            .RequireAuthorization(ControlPlanePolicies.Admin)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        return api;
    }

    public static async Task<Results<Ok<IssuedToken>, ProblemHttpResult>> IssueToken(HttpRequest request, RoleTokens tokens, CustomerService customers, AuditLog audit, CancellationToken cancellationToken)
    {
        var body = await JsonBody.ReadAsync<IssueTokenRequest>(request, cancellationToken);
        if (!body.Succeeded)
        {
            return ProblemResults.From(body.Problem!);
        }

        var (role, customerId, subject) = body.Value!;
        if (role is null || !Roles.All.Contains(role))
        {
            return ProblemResults.From(ApiProblem.Invalid("role", $"must be one of: {string.Join(", ", Roles.All)}."));
        }

        if (role == Roles.Developer)
        {
            if (InputRules.CustomerId("customerId", customerId) is { } invalid)
            {
                return ProblemResults.From(invalid);
            }

            var customer = await customers.FindAsync(customerId!, cancellationToken);
            if (!customer.Succeeded)
            {
                return ProblemResults.From(customer.Problem!);
            }
        }
        else if (customerId is not null)
        {
            return ProblemResults.From(ApiProblem.Invalid("customerId", "is only for role 'developer'."));
        }

        if (subject is not null && InputRules.Name("subject", subject) is { } badSubject)
        {
            return ProblemResults.From(badSubject);
        }

        var name = subject?.Trim() ?? $"{role}-token";
        var issued = tokens.Issue(name, role, customerId);
        await audit.RecordAsync(request.HttpContext, AuditActions.TokenIssued, name, $"role {role}{(customerId is null ? "" : $", customer {customerId}")}, expires {issued.ExpiresAt:O}", cancellationToken);
        return TypedResults.Ok(issued);
    }
}
