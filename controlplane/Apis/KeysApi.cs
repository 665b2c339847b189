using Gateway.ControlPlane.Contracts;
using Gateway.ControlPlane.Http;
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
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        api.MapGet("/keys", ListKeys)
            .WithName(nameof(ListKeys))
            .WithSummary("List a customer's keys")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/keys/{id}/revoke", RevokeKey)
            .WithName(nameof(RevokeKey))
            .WithSummary("Revoke a key for good")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPost("/keys/{id}/suspend", SuspendKey)
            .WithName(nameof(SuspendKey))
            .WithSummary("Suspend a key (callers get 402)")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPost("/keys/{id}/reactivate", ReactivateKey)
            .WithName(nameof(ReactivateKey))
            .WithSummary("Reactivate a suspended key")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return api;
    }

    public static async Task<Results<Created<KeyView>, ProblemHttpResult>> IssueKey(HttpRequest request, ApiKeyService keys, CancellationToken cancellationToken)
    {
        var body = await JsonBody.ReadAsync<CreateKeyRequest>(request, cancellationToken);
        if (!body.Succeeded)
        {
            return ProblemResults.From(body.Problem!);
        }

        var issued = await keys.IssueAsync(body.Value!.CustomerId, body.Value.Plan, cancellationToken);
        return issued.Succeeded
            ? TypedResults.Created($"/admin/v1/keys/{issued.Value!.Record.Id}", KeyView.Of(issued.Value.Record, issued.Value.Key))
            : ProblemResults.From(issued.Problem!);
    }

    public static async Task<Results<Ok<List<KeyView>>, ProblemHttpResult>> ListKeys(string? customerId, ApiKeyService keys, CancellationToken cancellationToken)
    {
        var listed = await keys.ListAsync(customerId, cancellationToken);
        return listed.Succeeded ? TypedResults.Ok(listed.Value!.Select(k => KeyView.Of(k)).ToList()) : ProblemResults.From(listed.Problem!);
    }

    public static async Task<Results<Ok<KeyView>, ProblemHttpResult>> RevokeKey(string id, ApiKeyService keys, CancellationToken cancellationToken) =>
        Respond(await keys.RevokeAsync(id, cancellationToken));

    public static async Task<Results<Ok<KeyView>, ProblemHttpResult>> SuspendKey(string id, ApiKeyService keys, CancellationToken cancellationToken) =>
        Respond(await keys.SuspendAsync(id, cancellationToken));

    public static async Task<Results<Ok<KeyView>, ProblemHttpResult>> ReactivateKey(string id, ApiKeyService keys, CancellationToken cancellationToken) =>
        Respond(await keys.ReactivateAsync(id, cancellationToken));

    private static Results<Ok<KeyView>, ProblemHttpResult> Respond(Outcome<ApiKeyRecord> outcome) =>
        outcome.Succeeded ? TypedResults.Ok(KeyView.Of(outcome.Value!)) : ProblemResults.From(outcome.Problem!);
}
