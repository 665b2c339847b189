using System.Security.Claims;
using Gateway.ControlPlane.Audit;
using Gateway.ControlPlane.Contracts;
using Gateway.ControlPlane.Http;
using Gateway.ControlPlane.Security;
using Gateway.Core.Customers;
using Gateway.Core.Keys;
using Gateway.Core.Problems;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Gateway.ControlPlane.Apis;

/// <summary><c>/admin/v1/keys</c>: issue, list and change the status of API keys.</summary>
public static class KeysApi
{
    public static RouteGroupBuilder MapKeysApi(this RouteGroupBuilder api)
    {
        api.MapPost("/keys", IssueKey)
            .WithName(nameof(IssueKey))
            .WithSummary("Issue an API key (the plaintext is in this response only)")
            .RequireAuthorization(ControlPlanePolicies.ManageKeys)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        api.MapGet("/keys", ListKeys)
            .WithName(nameof(ListKeys))
            .WithSummary("List a customer's keys")
            .RequireAuthorization(ControlPlanePolicies.AnyRole)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/keys/{id}/revoke", RevokeKey)
            .WithName(nameof(RevokeKey))
            .WithSummary("Revoke a key for good")
            .RequireAuthorization(ControlPlanePolicies.ManageKeys)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPost("/keys/{id}/suspend", SuspendKey)
            .WithName(nameof(SuspendKey))
            .WithSummary("Suspend a key (callers get 402)")
            .RequireAuthorization(ControlPlanePolicies.Admin)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPost("/keys/{id}/reactivate", ReactivateKey)
            .WithName(nameof(ReactivateKey))
            .WithSummary("Reactivate a suspended key")
            .RequireAuthorization(ControlPlanePolicies.Admin)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return api;
    }

    public static async Task<Results<Created<KeyView>, ProblemHttpResult>> IssueKey(HttpRequest request, ClaimsPrincipal user, ApiKeyService keys, AuditLog audit, CancellationToken cancellationToken)
    {
        var body = await JsonBody.ReadAsync<CreateKeyRequest>(request, cancellationToken);
        if (!body.Succeeded)
        {
            return ProblemResults.From(body.Problem!);
        }

        if (Hidden(user, body.Value!.CustomerId) is { } hidden)
        {
            return ProblemResults.From(hidden);
        }

        var issued = await keys.IssueAsync(body.Value!.CustomerId, body.Value.Plan, cancellationToken);
        if (!issued.Succeeded)
        {
            return ProblemResults.From(issued.Problem!);
        }

        var record = issued.Value!.Record;
        await audit.RecordAsync(request.HttpContext, AuditActions.KeyIssued, record.Id, $"customer {record.CustomerId}, plan '{record.Plan}'", cancellationToken);
        return TypedResults.Created($"/admin/v1/keys/{record.Id}", KeyView.Of(record, issued.Value.Key));
    }

    public static async Task<Results<Ok<List<KeyView>>, ProblemHttpResult>> ListKeys(string? customerId, ClaimsPrincipal user, ApiKeyService keys, CancellationToken cancellationToken)
    {
        if (Hidden(user, customerId) is { } hidden)
        {
            return ProblemResults.From(hidden);
        }

        var listed = await keys.ListAsync(customerId, cancellationToken);
        return listed.Succeeded ? TypedResults.Ok(listed.Value!.Select(k => KeyView.Of(k)).ToList()) : ProblemResults.From(listed.Problem!);
    }

    public static async Task<Results<Ok<KeyView>, ProblemHttpResult>> RevokeKey(string id, HttpContext context, ApiKeyService keys, AuditLog audit, CancellationToken cancellationToken)
    {
        var caller = ControlPlaneCaller.Of(context.User);
        if (caller.Role == Roles.Developer)
        {
            // A developer revokes its own keys only; another customer's key is as unknown as a key that never existed.
            var key = await keys.FindAsync(id, cancellationToken);
            if (!key.Succeeded || !caller.CanSee(key.Value!.CustomerId))
            {
                return ProblemResults.From(ApiProblem.NotFound("Key", id));
            }
        }

        return await RecordAsync(await keys.RevokeAsync(id, cancellationToken), context, audit, AuditActions.KeyRevoked, cancellationToken);
    }

    public static async Task<Results<Ok<KeyView>, ProblemHttpResult>> SuspendKey(string id, HttpContext context, ApiKeyService keys, AuditLog audit, CancellationToken cancellationToken) =>
        await RecordAsync(await keys.SuspendAsync(id, cancellationToken), context, audit, AuditActions.KeySuspended, cancellationToken);

    public static async Task<Results<Ok<KeyView>, ProblemHttpResult>> ReactivateKey(string id, HttpContext context, ApiKeyService keys, AuditLog audit, CancellationToken cancellationToken) =>
        await RecordAsync(await keys.ReactivateAsync(id, cancellationToken), context, audit, AuditActions.KeyReactivated, cancellationToken);

    /// <summary>A status change's answer, recorded in the audit log when it succeeded.</summary>
    private static async Task<Results<Ok<KeyView>, ProblemHttpResult>> RecordAsync(Outcome<ApiKeyRecord> outcome, HttpContext context, AuditLog audit, string action, CancellationToken cancellationToken)
    {
        if (outcome.Succeeded)
        {
            var key = outcome.Value!;
            await audit.RecordAsync(context, action, key.Id, $"customer {key.CustomerId}, status {key.Status.ToString().ToLowerInvariant()}", cancellationToken);
        }

        return Respond(outcome);
    }

    /// <summary>
    /// A 404 for a well-formed customer id this caller may not see (another tenant's); null otherwise. Malformed ids
    /// are left to the service, which names the field.
    /// </summary>
    internal static ApiProblem? Hidden(ClaimsPrincipal user, string? customerId) =>
        customerId is not null && CustomerIds.IsWellFormed(customerId) && !ControlPlaneCaller.Of(user).CanSee(customerId)
            ? ApiProblem.NotFound("Customer", customerId)
            : null;

    private static Results<Ok<KeyView>, ProblemHttpResult> Respond(Outcome<ApiKeyRecord> outcome) =>
        outcome.Succeeded ? TypedResults.Ok(KeyView.Of(outcome.Value!)) : ProblemResults.From(outcome.Problem!);
}
