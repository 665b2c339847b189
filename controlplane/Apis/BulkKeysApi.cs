using Gateway.ControlPlane.Audit;
using Gateway.ControlPlane.Contracts;
using Gateway.ControlPlane.Http;
using Gateway.ControlPlane.Security;
using Gateway.Core.Keys;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Gateway.ControlPlane.Apis;

/// <summary><c>/admin/v1/keys/bulk</c>: many keys of one customer and plan in one request (provisioning, migrations).</summary>
public static class BulkKeysApi
{
    public static RouteGroupBuilder MapBulkKeysApi(this RouteGroupBuilder api)
    {
        api.MapPost("/keys/bulk", IssueKeys)
            .WithName(nameof(IssueKeys))
            .WithSummary($"Issue up to {ApiKeyService.MaxBulkIssue} keys of one customer and plan at once (the plaintexts are in this response only)")
            .RequireAuthorization(ControlPlanePolicies.Admin)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        return api;
    }

    public static async Task<Results<Created<IssuedKeysView>, ProblemHttpResult>> IssueKeys(HttpRequest request, ApiKeyService keys, AuditLog audit, CancellationToken cancellationToken)
    {
        var body = await JsonBody.ReadAsync<IssueKeysRequest>(request, cancellationToken);
        if (!body.Succeeded)
        {
            return ProblemResults.From(body.Problem!);
        }

        var (customerId, plan, count, name) = body.Value!;
        var issued = await keys.IssueManyAsync(customerId, plan, count, name, cancellationToken);
        if (!issued.Succeeded)
        {
            return ProblemResults.From(issued.Problem!);
        }

        await audit.RecordAsync(request.HttpContext, AuditActions.KeysIssuedInBulk, customerId!, $"{issued.Value!.Count} keys, plan '{issued.Value[0].Record.Plan}'", cancellationToken);
        return TypedResults.Created($"/admin/v1/keys?customerId={customerId}", new IssuedKeysView([.. issued.Value.Select(k => KeyView.Of(k.Record, k.Key))]));
    }
}
