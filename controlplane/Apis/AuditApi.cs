using System.Globalization;
using Gateway.ControlPlane.Audit;
using Gateway.ControlPlane.Http;
using Gateway.ControlPlane.Security;
using Gateway.Core.Problems;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Gateway.ControlPlane.Apis;

/// <summary>The query of <c>GET /admin/v1/audit</c>, as sent.</summary>
public sealed record AuditQuery(string? From, string? To, string? Actor, string? Target, string? Action)
{
    public static AuditQuery Of(IQueryCollection query) => new(query["from"], query["to"], query["actor"], query["target"], query["action"]);
}

/// <summary>An answer of <c>GET /admin/v1/audit</c>: entries oldest first; <c>truncated</c> when more matched than one answer holds.</summary>
public sealed record AuditPage(IReadOnlyList<AuditEntry> Items, bool Truncated);

/// <summary><c>/admin/v1/audit</c>: the audit log, for admin and compliance.</summary>
public static class AuditApi
{
    public static RouteGroupBuilder MapAuditApi(this RouteGroupBuilder api)
    {
        api.MapGet("/audit", ListAudit)
            .WithName(nameof(ListAudit))
            .WithSummary("Read the audit log (default: the current UTC day)")
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

        var entries = await audit.ReadAsync(from, to, Blank(query.Actor), Blank(query.Target), Blank(query.Action), cancellationToken);
        return TypedResults.Ok(new AuditPage(entries, entries.Count == AuditLog.MaxEntries));
    }

    private static string? Blank(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static bool TryParseTime(string text, out DateTimeOffset value) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);
}
