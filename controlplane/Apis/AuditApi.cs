using System.Globalization;
using Gateway.ControlPlane.Audit;
using Gateway.ControlPlane.Http;
using Gateway.ControlPlane.Security;
using Gateway.Core.Problems;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Gateway.ControlPlane.Apis;

/// <summary>The query of <c>GET /admin/v1/audit</c>, as sent.</summary>
public sealed record AuditQuery(
    [FromQuery(Name = "from")] string? From,
    [FromQuery(Name = "to")] string? To,
    [FromQuery(Name = "actor")] string? Actor,
    [FromQuery(Name = "target")] string? Target,
    [FromQuery(Name = "action")] string? Action,
    [FromQuery(Name = "continuationToken")] string? ContinuationToken,
    [FromQuery(Name = "limit")] string? Limit)
{
    public static AuditQuery Of(IQueryCollection query) =>
        new(query["from"], query["to"], query["actor"], query["target"], query["action"], query["continuationToken"], query["limit"]);
}

/// <summary><c>/admin/v1/audit</c>: the audit log, for admin and compliance.</summary>
public static class AuditApi
{
    public static RouteGroupBuilder MapAuditApi(this RouteGroupBuilder api)
    {
        api.MapGet("/audit", ListAudit)
            .WithName(nameof(ListAudit))
            .WithSummary("Read the audit log (default: the current UTC day), oldest first; paged by continuation token")
            .RequireAuthorization(ControlPlanePolicies.Review)
            .ProducesProblem(StatusCodes.Status400BadRequest);
        return api;
    }

    public static async Task<Results<Ok<AuditPage>, ProblemHttpResult>> ListAudit([AsParameters] AuditQuery query, AuditLog audit, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var from = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        var to = now.AddTicks(1);
        if (query.From is not null && !TryParseTime(query.From, out from))
        {
            return ProblemResults.From(ApiProblem.Invalid("from", "must be an ISO 8601 date or date-time, e.g. 2026-11-01 or 2026-11-01T13:00:00Z."));
        }

        if (query.To is not null && !TryParseTime(query.To, out to))
        {
            return ProblemResults.From(ApiProblem.Invalid("to", "must be an ISO 8601 date or date-time, e.g. 2026-11-02 or 2026-11-01T14:00:00Z."));
        }

        if (to <= from || to - from > AuditLog.MaxPeriod || from.Year < 2000 || to.Year > 9998)
        {
            return ProblemResults.From(ApiProblem.Invalid("to", $"must be later than 'from', at most {AuditLog.MaxPeriod.TotalDays} days after it."));
        }

        var pageSize = AuditLog.DefaultPageSize;
        if (query.Limit is not null && (!int.TryParse(query.Limit, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize < 1 || pageSize > AuditLog.MaxPageSize))
        {
            return ProblemResults.From(ApiProblem.Invalid("limit", $"must be a whole number from 1 to {AuditLog.MaxPageSize}."));
        }

        var after = Blank(query.ContinuationToken);
        if (after is not null && !AuditLog.IsContinuationToken(after))
        {
            return ProblemResults.From(ApiProblem.Invalid("continuationToken", "is not a token this API answered; start again without it."));
        }

        var filter = new AuditFilter(Blank(query.Actor), Blank(query.Target), Blank(query.Action));
        return TypedResults.Ok(await audit.ReadPageAsync(from, to, filter, after, pageSize, cancellationToken));
    }

    private static string? Blank(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static bool TryParseTime(string text, out DateTimeOffset value) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);
}
