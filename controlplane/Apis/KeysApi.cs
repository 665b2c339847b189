using System.Security.Claims;
using Gateway.Compliance;
using Gateway.ControlPlane.Audit;
using Gateway.ControlPlane.Contracts;
using Gateway.ControlPlane.Http;
using Gateway.ControlPlane.Security;
using Gateway.Core;
using Gateway.Core.Customers;
using Gateway.Core.Keys;
using Gateway.Core.Problems;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

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
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        api.MapGet("/keys", ListKeys)
            .WithName(nameof(ListKeys))
            .WithSummary("List a customer's keys in id order; paged by continuation token (limit 1-1000, default 100)")
            .RequireAuthorization(ControlPlanePolicies.AnyRole)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/keys/{id}", GetKey)
            .WithName(nameof(GetKey))
            .WithSummary("Get a key (a developer: its own)")
            .RequireAuthorization(ControlPlanePolicies.AnyRole)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPatch("/keys/{id}", RenameKey)
            .WithName(nameof(RenameKey))
            .WithSummary("Rename a key")
            .RequireAuthorization(ControlPlanePolicies.ManageKeys)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        api.MapPut("/keys/{id}/plan", ChangeKeyPlan)
            .WithName(nameof(ChangeKeyPlan))
            .WithSummary("Move a key to another plan (gateways pick it up at once)")
            .RequireAuthorization(ControlPlanePolicies.Admin)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        api.MapPost("/keys/{id}/rotate", RotateKey)
            .WithName(nameof(RotateKey))
            .WithSummary("Rotate a key: a new key now, the old one keeps working for the overlap (body {\"overlap\":\"PT1H\"} or seconds)")
            .RequireAuthorization(ControlPlanePolicies.ManageKeys)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
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

    public static async Task<Results<Created<KeyView>, ProblemHttpResult>> IssueKey(HttpRequest request, ClaimsPrincipal user, ApiKeyService keys, KeyLicences licences, AuditLog audit, CancellationToken cancellationToken)
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

        // A developer issues within its plan's maximum of live keys and under the plan's terms; an admin is bound by neither.
        var developer = ControlPlaneCaller.Of(user).Role == Roles.Developer;
        if (developer && body.Value.Licence is not null)
        {
            return ProblemResults.From(new ApiProblem(ProblemTypes.Forbidden, StatusCodes.Status403Forbidden, "Only an admin may change a plan's licence terms for a key; send 'purpose' alone."));
        }

        // The purpose is checked before the key exists; an unknown plan is left to the issuer to report.
        var grant = licences.Check(body.Value.Plan, body.Value.Purpose, body.Value.Licence);
        if (grant is { Succeeded: false })
        {
            return ProblemResults.From(grant.Value.Problem!);
        }

        var issued = await keys.IssueAsync(body.Value!.CustomerId, body.Value.Plan, cancellationToken, body.Value.Name, maxLiveKeys: developer);
        if (!issued.Succeeded)
        {
            return ProblemResults.From(issued.Problem!);
        }

        var record = issued.Value!.Record;
        var licence = await licences.AddVersionAsync(record.Id, record.CustomerId, record.Plan, grant!.Value.Value!, cancellationToken);
        await audit.RecordAsync(request.HttpContext, AuditActions.KeyIssued, record.Id, $"customer {record.CustomerId}, plan '{record.Plan}', purpose '{licence.Purpose}'", cancellationToken);
        return TypedResults.Created($"/admin/v1/keys/{record.Id}", KeyView.Of(record, issued.Value.Key) with { Licence = KeyLicenceView.Of(licence) });
    }

    public static async Task<Results<Ok<KeyPageView>, ProblemHttpResult>> ListKeys([AsParameters] KeyQuery query, ClaimsPrincipal user, ApiKeyService keys, CancellationToken cancellationToken)
    {
        if (Hidden(user, query.CustomerId) is { } hidden)
        {
            return ProblemResults.From(hidden);
        }

        var listed = await keys.ListAsync(query.CustomerId, query.ContinuationToken, query.Limit, cancellationToken);
        return listed.Succeeded
            ? TypedResults.Ok(new KeyPageView([.. listed.Value!.Items.Select(k => KeyView.Of(k))], listed.Value.ContinuationToken))
            : ProblemResults.From(listed.Problem!);
    }

    public static async Task<Results<Ok<KeyView>, ProblemHttpResult>> GetKey(string id, ClaimsPrincipal user, ApiKeyService keys, CancellationToken cancellationToken)
    {
        var key = await keys.FindAsync(id, cancellationToken);
        return key.Succeeded && ControlPlaneCaller.Of(user).CanSee(key.Value!.CustomerId)
            ? TypedResults.Ok(KeyView.Of(key.Value!))
            : ProblemResults.From(ApiProblem.NotFound("Key", id));
    }

    public static async Task<Results<Ok<KeyView>, ProblemHttpResult>> RenameKey(string id, HttpRequest request, ApiKeyService keys, AuditLog audit, CancellationToken cancellationToken)
    {
        if (!ApiKeyFormat.IsKeyId(id))
        {
            return ProblemResults.From(ApiProblem.NotFound("Key", id));
        }

        if (await NotOwnAsync(id, request.HttpContext.User, keys, cancellationToken) is { } hidden)
        {
            return ProblemResults.From(hidden);
        }

        var body = await JsonBody.ReadAsync<RenameKeyRequest>(request, cancellationToken);
        if (!body.Succeeded)
        {
            return ProblemResults.From(body.Problem!);
        }

        var renamed = await keys.RenameAsync(id, body.Value!.Name, cancellationToken);
        if (renamed.Succeeded)
        {
            await audit.RecordAsync(request.HttpContext, AuditActions.KeyRenamed, id, $"customer {renamed.Value!.CustomerId}, name '{renamed.Value.Name}'", cancellationToken);
        }

        return Respond(renamed);
    }

    public static async Task<Results<Ok<KeyView>, ProblemHttpResult>> ChangeKeyPlan(string id, HttpRequest request, ApiKeyService keys, KeyLicences licences, AuditLog audit, CancellationToken cancellationToken)
    {
        if (!ApiKeyFormat.IsKeyId(id))
        {
            return ProblemResults.From(ApiProblem.NotFound("Key", id));
        }

        var body = await JsonBody.ReadAsync<ChangeKeyPlanRequest>(request, cancellationToken);
        if (!body.Succeeded)
        {
            return ProblemResults.From(body.Problem!);
        }

        var changed = await keys.ChangePlanAsync(id, body.Value!.Plan, cancellationToken);
        if (changed.Succeeded)
        {
            await licences.FollowPlanChangeAsync(changed.Value!, cancellationToken);
            await audit.RecordAsync(request.HttpContext, AuditActions.KeyPlanChanged, id, $"customer {changed.Value!.CustomerId}, plan '{changed.Value.Plan}'", cancellationToken);
        }

        return Respond(changed);
    }

    public static async Task<Results<Created<RotatedKeyView>, ProblemHttpResult>> RotateKey(string id, HttpRequest request, ApiKeyService keys, KeyLicences licences, AuditLog audit, IOptions<GatewayOptions> options, CancellationToken cancellationToken)
    {
        if (await NotOwnAsync(id, request.HttpContext.User, keys, cancellationToken) is { } hidden)
        {
            return ProblemResults.From(hidden);
        }

        // The body is optional: without one the configured default overlap applies.
        var overlap = options.Value.Keys.DefaultRotationOverlap;
        if (request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            var body = await JsonBody.ReadAsync<RotateKeyRequest>(request, cancellationToken);
            var parsed = body.Succeeded ? body.Value!.Parse(overlap, options.Value.Keys.MaxRotationOverlap) : body.Problem!;
            if (!parsed.Succeeded)
            {
                return ProblemResults.From(parsed.Problem!);
            }

            overlap = parsed.Value;
        }

        var rotated = await keys.RotateAsync(id, overlap, cancellationToken);
        if (!rotated.Succeeded)
        {
            return ProblemResults.From(rotated.Problem!);
        }

        var (old, issued) = rotated.Value!;
        await licences.CarryOverAsync(old.Id, issued.Record, cancellationToken);
        await audit.RecordAsync(request.HttpContext, AuditActions.KeyRotated, id, $"customer {old.CustomerId}, new key {issued.Record.Id}, old key expires {old.ExpiresAt:O}", cancellationToken);
        return TypedResults.Created($"/admin/v1/keys/{issued.Record.Id}", new RotatedKeyView(KeyView.Of(old), KeyView.Of(issued.Record, issued.Key)));
    }

    public static async Task<Results<Ok<KeyView>, ProblemHttpResult>> RevokeKey(string id, HttpContext context, ApiKeyService keys, AuditLog audit, CancellationToken cancellationToken)
    {
        if (await NotOwnAsync(id, context.User, keys, cancellationToken) is { } hidden)
        {
            return ProblemResults.From(hidden);
        }

        return await RecordAsync(await keys.RevokeAsync(id, cancellationToken), context, audit, AuditActions.KeyRevoked, cancellationToken);
    }

    /// <summary>
    /// For a developer, a 404 for a key of another customer (as unknown as a key that never existed), read before
    /// anything else; null for other roles, who may act on any key.
    /// </summary>
    private static async Task<ApiProblem?> NotOwnAsync(string id, ClaimsPrincipal user, ApiKeyService keys, CancellationToken cancellationToken)
    {
        var caller = ControlPlaneCaller.Of(user);
        if (caller.Role != Roles.Developer)
        {
            return null;
        }

        var key = await keys.FindAsync(id, cancellationToken);
        return key.Succeeded && caller.CanSee(key.Value!.CustomerId) ? null : ApiProblem.NotFound("Key", id);
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
