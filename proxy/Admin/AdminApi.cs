using System.Globalization;
using System.Text.Json;
using Gateway.Core;
using Gateway.Core.Customers;
using Gateway.Core.Keys;
using Gateway.Core.Plans;
using Gateway.Core.Problems;
using Gateway.Core.Usage;
using Gateway.Proxy.Hosting;
using Gateway.Proxy.Problems;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Gateway.Proxy.Admin;

public sealed record CreateCustomerRequest(string? Name, string? Email);

public sealed record CreateKeyRequest(string? CustomerId, string? Plan);

/// <summary>A key as the admin API shows it: never the hash, and the plaintext only in the creation response.</summary>
public sealed record KeyView(string Id, string CustomerId, string Plan, string Status, string DisplayPrefix, DateTimeOffset CreatedAt, DateTimeOffset? StatusChangedAt, string? Key = null)
{
    public static KeyView Of(ApiKeyRecord r, string? key = null) =>
        new(r.Id, r.CustomerId, r.Plan, r.Status.ToString().ToLowerInvariant(), r.DisplayPrefix, r.CreatedAt, r.StatusChangedAt, key);
}

public sealed record PlanView(string Name, string DisplayName, double RequestsPerSecond, int Burst, long MonthlyQuota, string OverQuota, IReadOnlyList<string> RouteGroups, decimal PricePerMonth, decimal OveragePricePerThousand)
{
    public static PlanView Of(Plan p) => new(
        p.Name, p.DisplayName, p.RequestsPerSecond, p.Burst, p.MonthlyQuota, p.OverQuota.ToString().ToLowerInvariant(),
        [.. p.RouteGroups.Order(StringComparer.Ordinal)], p.PricePerMonth, p.OveragePricePerThousand);
}

/// <summary>
/// The admin API (<c>/admin/v1</c>, admin port only, admin token required): customers, keys, plans, usage.
/// Endpoints are thin: validation and storage live in the Core services the Functions host calls too.
/// </summary>
public static class AdminApi
{
    public static void MapAdminApi(this WebApplication app)
    {
        var bodyLimit = new BodyLimit(app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.Admin.MaxBodyBytes);
        var api = app.MapGroup("/admin/v1")
            .RequireAuthorization(AdminTokenAuthenticationHandler.Policy)
            .WithMetadata(AdminPlaneMetadata.Instance, bodyLimit);

        api.MapPost("/customers", async Task<IResult> (HttpRequest request, CustomerService customers, CancellationToken ct) =>
        {
            var body = await ReadJsonAsync<CreateCustomerRequest>(request, ct);
            if (!body.Succeeded)
            {
                return Problem(body.Problem!);
            }

            var created = await customers.CreateAsync(body.Value!.Name, body.Value.Email, ct);
            return created.Succeeded ? TypedResults.Created($"/admin/v1/customers/{created.Value!.Id}", created.Value) : Problem(created.Problem!);
        });

        api.MapGet("/customers", async Task<IResult> (CustomerService customers, CancellationToken ct) => TypedResults.Ok(await customers.ListAsync(ct)));

        api.MapGet("/customers/{id}", async Task<IResult> (string id, CustomerService customers, CancellationToken ct) =>
            Respond(await customers.FindAsync(id, ct)));

        api.MapPost("/keys", async Task<IResult> (HttpRequest request, ApiKeyService keys, CancellationToken ct) =>
        {
            var body = await ReadJsonAsync<CreateKeyRequest>(request, ct);
            if (!body.Succeeded)
            {
                return Problem(body.Problem!);
            }

            var issued = await keys.IssueAsync(body.Value!.CustomerId, body.Value.Plan, ct);
            return issued.Succeeded
                ? TypedResults.Created($"/admin/v1/keys/{issued.Value!.Record.Id}", KeyView.Of(issued.Value.Record, issued.Value.Key))
                : Problem(issued.Problem!);
        });

        api.MapGet("/keys", async Task<IResult> (string? customerId, ApiKeyService keys, CancellationToken ct) =>
        {
            var listed = await keys.ListAsync(customerId, ct);
            return listed.Succeeded ? TypedResults.Ok(listed.Value!.Select(k => KeyView.Of(k)).ToList()) : Problem(listed.Problem!);
        });

        api.MapPost("/keys/{id}/revoke", async Task<IResult> (string id, ApiKeyService keys, CancellationToken ct) => RespondKey(await keys.RevokeAsync(id, ct)));
        api.MapPost("/keys/{id}/suspend", async Task<IResult> (string id, ApiKeyService keys, CancellationToken ct) => RespondKey(await keys.SuspendAsync(id, ct)));
        api.MapPost("/keys/{id}/reactivate", async Task<IResult> (string id, ApiKeyService keys, CancellationToken ct) => RespondKey(await keys.ReactivateAsync(id, ct)));

        api.MapGet("/plans", (PlanCatalog plans) => TypedResults.Ok(plans.All.Select(PlanView.Of).ToList()));

        api.MapGet("/usage", async Task<IResult> (HttpRequest request, UsageReporter reporter, TimeProvider time, CancellationToken ct) =>
        {
            var query = UsageQuery.Parse(request.Query, time.GetUtcNow());
            if (!query.Succeeded)
            {
                return Problem(query.Problem!);
            }

            var q = query.Value!;
            var report = await reporter.ReportAsync(q.CustomerId, q.KeyId, q.From, q.To, q.Granularity, ct);
            return report.Succeeded ? TypedResults.Ok(report.Value) : Problem(report.Problem!);
        });
    }

    /// <summary>
    /// Reads a JSON body, turning every way it can be wrong into a problem: 413 over the admin body limit (refused
    /// before reading when Content-Length says so, else as soon as the limit is passed), otherwise 400 naming the field.
    /// </summary>
    private static async Task<Outcome<T>> ReadJsonAsync<T>(HttpRequest request, CancellationToken ct)
        where T : class
    {
        if (!request.HasJsonContentType() || !MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType))
        {
            return ApiProblem.Invalid("body", "must be JSON (Content-Type: application/json).");
        }

        if (mediaType.Charset is { HasValue: true } charset && !charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase))
        {
            return ApiProblem.Invalid("body", "must be UTF-8 JSON (no charset, or charset=utf-8).");
        }

        var limit = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize;
        if (request.ContentLength > limit)
        {
            return ApiProblem.BodyTooLarge(limit.Value);
        }

        try
        {
            return await request.ReadFromJsonAsync<T>(ct) is { } value ? value : ApiProblem.Invalid("body", "must be a JSON object.");
        }
        catch (JsonException e)
        {
            return ApiProblem.Invalid(BadRequestHandler.JsonField(e.Path), "is not valid JSON of the expected shape.");
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge && limit is { } max)
        {
            return ApiProblem.BodyTooLarge(max);
        }
    }

    private static IResult Respond<T>(Outcome<T> outcome) =>
        outcome.Succeeded ? TypedResults.Ok(outcome.Value!) : Problem(outcome.Problem!);

    private static IResult RespondKey(Outcome<ApiKeyRecord> outcome) =>
        outcome.Succeeded ? TypedResults.Ok(KeyView.Of(outcome.Value!)) : Problem(outcome.Problem!);

    private static ProblemHttpResult Problem(ApiProblem problem) => TypedResults.Problem(
        problem.Detail,
        statusCode: problem.Status,
        title: problem.Title,
        type: problem.Type,
        extensions: problem.Errors is null ? null : new Dictionary<string, object?> { ["errors"] = problem.Errors });
}

/// <summary>The admin API's request body limit; routing applies it before an endpoint reads the body.</summary>
internal sealed class BodyLimit(long bytes) : IRequestSizeLimitMetadata
{
    public long? MaxRequestBodySize { get; } = bytes;
}

/// <summary>The parameters of <c>GET /admin/v1/usage</c>.</summary>
public sealed record UsageQuery(string CustomerId, string? KeyId, DateTimeOffset From, DateTimeOffset To, UsageGranularity Granularity)
{
    /// <summary>Defaults: from the start of the current UTC month to now (rounded up to the hour), hourly.</summary>
    public static Outcome<UsageQuery> Parse(IQueryCollection query, DateTimeOffset now)
    {
        if (query["customerId"] is not [{ Length: > 0 } customerId])
        {
            return ApiProblem.Invalid("customerId", "is required.");
        }

        var keyId = query["keyId"] is [{ Length: > 0 } k] ? k : null;
        var from = UsageCalendar.MonthStart(UsageCalendar.MonthOf(now));
        var to = UsageCalendar.HourStart(UsageCalendar.HourOf(now) + 1);
        if (query["from"] is [{ } fromText] && !TryParseTime(fromText, out from))
        {
            return ApiProblem.Invalid("from", "must be an ISO 8601 date or date-time, e.g. 2026-11-01 or 2026-11-01T13:00:00Z.");
        }

        if (query["to"] is [{ } toText] && !TryParseTime(toText, out to))
        {
            return ApiProblem.Invalid("to", "must be an ISO 8601 date or date-time, e.g. 2026-12-01 or 2026-11-30T23:00:00Z.");
        }

        var granularity = UsageGranularity.Hour;
        if (query["granularity"] is [{ } g] && !Enum.TryParse(g, ignoreCase: true, out granularity) || !Enum.IsDefined(granularity))
        {
            return ApiProblem.Invalid("granularity", "must be 'hour' or 'day'.");
        }

        return new UsageQuery(customerId, keyId, from, to, granularity);
    }

    private static bool TryParseTime(string text, out DateTimeOffset value) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);
}
