using System.Globalization;
using Gateway.Compliance;
using Gateway.ControlPlane.Audit;
using Gateway.ControlPlane.Http;
using Gateway.ControlPlane.Security;
using Gateway.Core.Keys;
using Gateway.Core.Problems;
using Gateway.Core.Validation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace Gateway.ControlPlane.Apis;

/// <summary>Query of <c>GET /admin/v1/compliance/flags</c>: every filter optional; pages by continuation token.</summary>
public sealed record FlagQuery(
    [property: FromQuery(Name = "customerId")] string? CustomerId,
    [property: FromQuery(Name = "keyId")] string? KeyId,
    [property: FromQuery(Name = "kind")] string? Kind,
    [property: FromQuery(Name = "status")] string? Status,
    [property: FromQuery(Name = "limit")] int? Limit,
    [property: FromQuery(Name = "continuationToken")] string? ContinuationToken);

/// <summary>A page of flags; <see cref="ContinuationToken"/> asks for the next (null: the last page).</summary>
public sealed record FlagPageView(IReadOnlyList<ComplianceFlag> Items, string? ContinuationToken);

/// <summary>Body of <c>POST /admin/v1/compliance/flags/{id}/review</c>.</summary>
public sealed record ReviewFlagRequest(string? Status, string? Note, bool SuspendKey = false);

/// <summary>A review's answer: the flag as it now stands, and the key if the review suspended it.</summary>
public sealed record FlagReviewView(ComplianceFlag Flag, string? SuspendedKeyId);

/// <summary>Query of <c>GET /admin/v1/compliance/lookup</c>: a record id as the upstream's JSON carries it, and a UTC day.</summary>
public sealed record RecordLookupQuery(
    [property: FromQuery(Name = "recordId")] string? RecordId,
    [property: FromQuery(Name = "day")] string? Day);

/// <summary>A key whose Bloom filter for the day holds the record: "probably received", with the chance that this is a false positive.</summary>
public sealed record RecordRecipientView(string KeyId, string CustomerId, string Answer, double FalsePositiveRate, long RecordsThatDay);

/// <summary>A key that received the canary with this id, exactly (from the canary registry): on which UTC day and route.</summary>
public sealed record CanaryRecipientView(string KeyId, string CustomerId, string Day, string RouteId, string Answer);

/// <summary>
/// The answer of a record lookup: the keys that probably received it (none: certainly none of this gateway's keys did,
/// as far as flushed evidence goes), and, when the id is a canary's, the key and day that received it (<c>canary</c>).
/// </summary>
public sealed record RecordLookupView(string RecordId, string? Day, IReadOnlyList<RecordRecipientView> Items, double StatedFalsePositiveRate, int FilterCapacity, IReadOnlyList<CanaryRecipientView> Canary);

/// <summary>Body of <c>POST /admin/v1/compliance/canaries/found</c>: the canary id, where it was found (a URL or a description) and when (default: now).</summary>
public sealed record CanaryFoundRequest(string? CanaryId, string? FoundWhere, DateTimeOffset? FoundAt);

/// <summary>The answer of a canary report: who received it, and the <c>redistribution_suspected</c> flag raised or grown.</summary>
public sealed record CanaryFoundView(CanaryRecipientView Recipient, ComplianceFlag Flag);

/// <summary><c>/admin/v1/compliance</c>: run detection, list flags, review them, look up who received a record.</summary>
public static class ComplianceApi
{
    public const string ScanAction = "compliance.scan";
    public const string ReviewAction = "compliance.flag-reviewed";
    public const string CanaryFoundAction = "compliance.canary-found";

    public static RouteGroupBuilder MapComplianceApi(this RouteGroupBuilder api)
    {
        api.MapPost("/compliance/scan", ScanCompliance)
            .WithName(nameof(ScanCompliance))
            .WithSummary("Run detection now over the evidence so far; answers the flags raised or updated")
            .RequireAuthorization(ControlPlanePolicies.Admin);
        api.MapGet("/compliance/flags", ListComplianceFlags)
            .WithName(nameof(ListComplianceFlags))
            .WithSummary("List flags, filtered by customerId, keyId, kind, status; paged by continuation token (limit 1-1000, default 100)")
            .RequireAuthorization(ControlPlanePolicies.Review)
            .ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapPost("/compliance/flags/{id}/review", ReviewComplianceFlag)
            .WithName(nameof(ReviewComplianceFlag))
            .WithSummary("Review a flag: open → acknowledged → dismissed or confirmed, with a note; confirming may suspend the key")
            .RequireAuthorization(ControlPlanePolicies.Review)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        api.MapGet("/compliance/lookup", LookupRecord)
            .WithName(nameof(LookupRecord))
            .WithSummary("Which keys received a record on a UTC day (recordId, day=yyyy-MM-dd): each key whose Bloom filter holds it, 'probably received', with the filter's false-positive rate; for a canary id, exactly the key and day that received it (day optional)")
            .RequireAuthorization(ControlPlanePolicies.Review)
            .ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapPost("/compliance/canaries/found", ReportCanaryFound)
            .WithName(nameof(ReportCanaryFound))
            .WithSummary("Report a canary record found in the wild (canaryId, foundWhere, foundAt): raises or grows redistribution_suspected for the key that received it, with the evidence; audited")
            .RequireAuthorization(ControlPlanePolicies.Review)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        return api;
    }

    public static async Task<Results<Ok<RecordLookupView>, ProblemHttpResult>> LookupRecord([AsParameters] RecordLookupQuery query, RecordTable records, CanaryTable canaries, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(query.RecordId) || query.RecordId.Length > 1024)
        {
            return ProblemResults.From(ApiProblem.Invalid("recordId", "is required: the record's id as the API's JSON carries it (at most 1024 characters)."));
        }

        var canary = await canaries.FindAsync(query.RecordId, cancellationToken);
        var canaryViews = canary.Select(CanaryView).ToList();
        if (query.Day is null && canary.Count > 0)
        {
            // A canary names its day itself; the Bloom filters need one.
            return TypedResults.Ok(new RecordLookupView(query.RecordId, null, [], RecordFilter.StatedFalsePositiveRate, RecordFilter.Capacity, canaryViews));
        }

        if (!DateOnly.TryParseExact(query.Day, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            return ProblemResults.From(ApiProblem.Invalid("day", "is required (unless recordId is a canary's), as a UTC day yyyy-MM-dd."));
        }

        var recipients = await records.RecipientsAsync(query.RecordId, day.DayNumber, cancellationToken);
        return TypedResults.Ok(new RecordLookupView(
            query.RecordId,
            day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            [.. recipients.Select(r => new RecordRecipientView(r.KeyId, r.CustomerId, "probably received", r.FalsePositiveRate, r.RecordsThatDay))],
            RecordFilter.StatedFalsePositiveRate,
            RecordFilter.Capacity,
            canaryViews));
    }

    /// <summary>
    /// A canary found in the wild: the registry names the key and day that received it (exactly), and the key's
    /// <c>redistribution_suspected</c> flag is raised, or grown by one more canary (counted under the flag's ETag, so two
    /// reports at once count two). Severity high unless the licence permits redistribution (then low: it is still a
    /// trace of where the data went). Audited; published like any flag.
    /// </summary>
    public static async Task<Results<Ok<CanaryFoundView>, ProblemHttpResult>> ReportCanaryFound(
        HttpRequest request, CanaryTable canaries, FlagTable flags, KeyLicences licences, IEnumerable<IComplianceFlagPublisher> publishers, AuditLog audit, TimeProvider time, CancellationToken cancellationToken)
    {
        var body = await JsonBody.ReadAsync<CanaryFoundRequest>(request, cancellationToken);
        if (!body.Succeeded)
        {
            return ProblemResults.From(body.Problem!);
        }

        var report = body.Value!;
        var now = time.GetUtcNow();
        var invalid = string.IsNullOrWhiteSpace(report.CanaryId) || report.CanaryId.Length > 1024 ? ApiProblem.Invalid("canaryId", "is required: the canary's id as it was found (at most 1024 characters).")
            : string.IsNullOrWhiteSpace(report.FoundWhere) || report.FoundWhere.Length > 2000 ? ApiProblem.Invalid("foundWhere", "is required: where the canary was found, a URL or a description (at most 2000 characters).")
            : report.FoundAt > now.AddDays(1) ? ApiProblem.Invalid("foundAt", "must not be in the future.")
            : null;
        if (invalid is not null)
        {
            return ProblemResults.From(invalid);
        }

        if (await canaries.FindAsync(report.CanaryId!, cancellationToken) is not [var delivery, ..])
        {
            return ProblemResults.From(ApiProblem.NotFound("Canary", report.CanaryId!));
        }

        var licence = await licences.CurrentAsync(delivery.KeyId, cancellationToken);
        var redistribution = licence?.Terms.Redistribution ?? false;
        var foundAt = report.FoundAt ?? now;
        var dayStart = new DateTimeOffset(delivery.Day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var sentence = string.Create(CultureInfo.InvariantCulture, $"Canary {delivery.CanaryId}, delivered to key {delivery.KeyId} on {delivery.Day:yyyy-MM-dd} (route {delivery.RouteId}), was found at {report.FoundWhere} on {foundAt:yyyy-MM-dd HH:mm}Z; the licence {(redistribution ? "permits" : "does not permit")} redistribution.");
        var candidate = new FlagCandidate(
            FlagKinds.RedistributionSuspected,
            delivery.CustomerId,
            delivery.KeyId,
            redistribution ? FlagSeverities.Low : FlagSeverities.High,
            dayStart,
            dayStart.AddDays(1),
            new Dictionary<string, long>
            {
                ["canariesFound"] = 1,
                ["deliveredDay"] = (delivery.Day.Year * 10_000L) + (delivery.Day.Month * 100L) + delivery.Day.Day,
                ["foundAtUnixSeconds"] = foundAt.ToUnixTimeSeconds(),
                ["redistributionLicensed"] = redistribution ? 1 : 0,
            },
            sentence,
            licence?.Purpose,
            licence?.Version);
        var flag = await flags.RaiseOrGrowAsync(candidate, cancellationToken, grow: static (ongoing, found) => found with
        {
            Evidence = new Dictionary<string, long>(found.Evidence) { ["canariesFound"] = ongoing.Evidence.GetValueOrDefault("canariesFound") + 1 },
            Summary = ongoing.Summary + " " + found.Summary,
        });
        foreach (var publisher in publishers)
        {
            await publisher.PublishAsync(flag!, cancellationToken);
        }

        await audit.RecordAsync(request.HttpContext, CanaryFoundAction, flag!.Id, sentence, cancellationToken);
        return TypedResults.Ok(new CanaryFoundView(CanaryView(delivery), flag));
    }

    private static CanaryRecipientView CanaryView(CanaryDelivery d) =>
        new(d.KeyId, d.CustomerId, d.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), d.RouteId, "received");

    public static async Task<Ok<FlagPageView>> ScanCompliance(HttpContext context, ComplianceScan scan, AuditLog audit, CancellationToken cancellationToken)
    {
        var changed = await scan.RunAsync(cancellationToken);
        await audit.RecordAsync(context, ScanAction, "compliance", string.Create(CultureInfo.InvariantCulture, $"{changed.Count} flag(s) raised or updated"), cancellationToken);
        return TypedResults.Ok(new FlagPageView(changed, null));
    }

    public static async Task<Results<Ok<FlagPageView>, ProblemHttpResult>> ListComplianceFlags([AsParameters] FlagQuery query, FlagTable flags, CancellationToken cancellationToken)
    {
        var invalid = query.Limit is < 1 or > 1000 ? ApiProblem.Invalid("limit", "must be from 1 to 1000.")
            : query.Kind is not null && !FlagKinds.Detected.Append(FlagKinds.RedistributionSuspected).Contains(query.Kind) ? ApiProblem.Invalid("kind", $"must be one of: {string.Join(", ", FlagKinds.Detected.Append(FlagKinds.RedistributionSuspected))}.")
            : query.Status is not null and not (FlagStatuses.Open or FlagStatuses.Acknowledged or FlagStatuses.Dismissed or FlagStatuses.Confirmed) ? ApiProblem.Invalid("status", "must be open, acknowledged, dismissed or confirmed.")
            : InputRules.OptionalKeyId("keyId", query.KeyId) ?? (query.CustomerId is null ? null : InputRules.CustomerId("customerId", query.CustomerId));
        if (invalid is not null)
        {
            return ProblemResults.From(invalid);
        }

        try
        {
            var (items, next) = await flags.ListAsync(query.CustomerId, query.KeyId, query.Kind, query.Status, query.Limit ?? 100, string.IsNullOrEmpty(query.ContinuationToken) ? null : query.ContinuationToken, cancellationToken);
            return TypedResults.Ok(new FlagPageView(items, next));
        }
        catch (Azure.RequestFailedException e) when (e.Status == 400)
        {
            return ProblemResults.From(ApiProblem.Invalid("continuationToken", "is not a token this API answered; start again without it."));
        }
    }

    public static async Task<Results<Ok<FlagReviewView>, ProblemHttpResult>> ReviewComplianceFlag(string id, HttpRequest request, FlagTable flags, ApiKeyService keys, AuditLog audit, CancellationToken cancellationToken)
    {
        var body = await JsonBody.ReadAsync<ReviewFlagRequest>(request, cancellationToken);
        if (!body.Succeeded)
        {
            return ProblemResults.From(body.Problem!);
        }

        var review = body.Value!;
        if (review.Status is not (FlagStatuses.Acknowledged or FlagStatuses.Dismissed or FlagStatuses.Confirmed))
        {
            return ProblemResults.From(ApiProblem.Invalid("status", "must be acknowledged, dismissed or confirmed."));
        }

        if (review.Note is { Length: > 2000 })
        {
            return ProblemResults.From(ApiProblem.Invalid("note", "must be at most 2000 characters."));
        }

        if (review.SuspendKey && review.Status != FlagStatuses.Confirmed)
        {
            return ProblemResults.From(ApiProblem.Invalid("suspendKey", "only a confirmation may suspend the key."));
        }

        if (await flags.FindAsync(id, cancellationToken) is not { } found)
        {
            return ProblemResults.From(ApiProblem.NotFound("Flag", id));
        }

        var (flag, etag) = found;
        if (!Allowed(flag.Status, review.Status))
        {
            return ProblemResults.From(ApiProblem.Conflict($"Flag '{id}' is {flag.Status}; it cannot become {review.Status} (open → acknowledged → dismissed or confirmed)."));
        }

        var reviewed = flag with { Status = review.Status };
        if (!await flags.TryReplaceAsync(reviewed, etag, cancellationToken))
        {
            return ProblemResults.From(ApiProblem.Conflict($"Flag '{id}' changed while it was reviewed; read it again."));
        }

        string? suspended = null;
        if (review.SuspendKey)
        {
            // Through the key lifecycle, so the change is stored, published to every gateway and audited like any suspension.
            var outcome = await keys.SuspendAsync(flag.KeyId, cancellationToken);
            if (outcome.Succeeded)
            {
                suspended = flag.KeyId;
                await audit.RecordAsync(request.HttpContext, AuditActions.KeySuspended, flag.KeyId, $"customer {flag.CustomerId}, confirmed flag {id}", cancellationToken);
            }
        }

        await audit.RecordAsync(request.HttpContext, ReviewAction, id, $"{flag.Status} → {review.Status}{(suspended is null ? "" : ", key suspended")}: {review.Note}", cancellationToken);
        return TypedResults.Ok(new FlagReviewView(reviewed, suspended));
    }

    /// <summary>open → acknowledged → dismissed | confirmed; nothing leaves dismissed or confirmed.</summary>
    private static bool Allowed(string from, string to) => (from, to) switch
    {
        (FlagStatuses.Open, FlagStatuses.Acknowledged) => true,
        (FlagStatuses.Acknowledged, FlagStatuses.Dismissed or FlagStatuses.Confirmed) => true,
        _ => false,
    };
}
