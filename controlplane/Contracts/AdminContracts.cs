using System.Text.Json;
using System.Xml;
using Gateway.Core.Keys;
using Gateway.Core.Plans;
using Gateway.Core.Problems;
using Microsoft.AspNetCore.Mvc;

namespace Gateway.ControlPlane.Contracts;

/// <summary>Body of <c>POST /admin/v1/customers</c>.</summary>
public sealed record CreateCustomerRequest(string? Name, string? Email, string? StripeCustomerId = null);

/// <summary>Body of <c>PATCH /admin/v1/customers/{id}</c>: the fields to change.</summary>
public sealed record UpdateCustomerRequest(string? Name, string? Email);

/// <summary>
/// Body of <c>PUT /admin/v1/customers/{id}/spend-cap</c>: the cap per key and UTC month in the plans' currency, whole
/// cents; an explicit null removes it. Required, so an empty body (<c>{}</c>) cannot remove a cap by accident.
/// </summary>
public sealed record SetSpendCapRequest([property: System.Text.Json.Serialization.JsonRequired] decimal? MonthlyCap);

/// <summary>The query of <c>GET /admin/v1/customers</c>, as sent.</summary>
public sealed record CustomerQuery(
    [FromQuery(Name = "search")] string? Search,
    [FromQuery(Name = "continuationToken")] string? ContinuationToken,
    [FromQuery(Name = "limit")] string? Limit)
{
    public static CustomerQuery Of(Microsoft.AspNetCore.Http.IQueryCollection query) => new(query["search"], query["continuationToken"], query["limit"]);
}

/// <summary>The query of <c>GET /admin/v1/keys</c>, as sent.</summary>
public sealed record KeyQuery(
    [FromQuery(Name = "customerId")] string? CustomerId,
    [FromQuery(Name = "continuationToken")] string? ContinuationToken,
    [FromQuery(Name = "limit")] string? Limit)
{
    public static KeyQuery Of(Microsoft.AspNetCore.Http.IQueryCollection query) => new(query["customerId"], query["continuationToken"], query["limit"]);
}

/// <summary>A page of <c>GET /admin/v1/keys</c>: keys in id order; <c>continuationToken</c> asks for the next page (null: the last).</summary>
public sealed record KeyPageView(IReadOnlyList<KeyView> Items, string? ContinuationToken);

/// <summary>Body of <c>POST /admin/v1/keys</c>.</summary>
/// <remarks>
/// <c>purpose</c>: what the holder will use the data for, one of the plan's permitted purposes (default: the first).
/// <c>licence</c>: an admin's overrides of the plan's terms for this key (a developer may not send it).
/// </remarks>
public sealed record CreateKeyRequest(string? CustomerId, string? Plan, string? Name = null, string? Purpose = null, Gateway.Compliance.LicenceOverride? Licence = null);

/// <summary>Body of <c>POST /admin/v1/keys/bulk</c>: <c>count</c> keys of one customer and plan.</summary>
public sealed record IssueKeysRequest(string? CustomerId, string? Plan, int? Count, string? Name = null);

/// <summary>The answer of <c>POST /admin/v1/keys/bulk</c>: every key with its plaintext, shown this once.</summary>
public sealed record IssuedKeysView(IReadOnlyList<KeyView> Items);

/// <summary>Body of <c>PATCH /admin/v1/keys/{id}</c>.</summary>
public sealed record RenameKeyRequest(string? Name);

/// <summary>Body of <c>PUT /admin/v1/keys/{id}/plan</c>.</summary>
public sealed record ChangeKeyPlanRequest(string? Plan);

/// <summary>
/// Body of <c>POST /admin/v1/keys/{id}/rotate</c> (optional): <c>overlap</c>, how long the old key keeps working, as
/// an ISO 8601 duration (<c>"PT1H"</c>) or whole seconds (<c>3600</c>).
/// </summary>
public sealed record RotateKeyRequest(JsonElement? Overlap)
{
    /// <summary>The overlap asked for, <paramref name="byDefault"/> when none, refused (naming <c>overlap</c>) beyond <paramref name="max"/>.</summary>
    public Outcome<TimeSpan> Parse(TimeSpan byDefault, TimeSpan max)
    {
        var overlap = byDefault;
        if (Overlap is { ValueKind: not JsonValueKind.Null } value)
        {
            if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var seconds) && seconds >= 0 && seconds <= (long)max.TotalSeconds)
            {
                overlap = TimeSpan.FromSeconds(seconds);
            }
            else if (value.ValueKind != JsonValueKind.String || !TryParseDuration(value.GetString()!, out overlap) || overlap < TimeSpan.Zero)
            {
                return ApiProblem.Invalid("overlap", $"must be an ISO 8601 duration such as \"PT1H\" or whole seconds, at most {XmlConvert.ToString(max)}.");
            }
        }

        return overlap <= max
            ? overlap
            : ApiProblem.Invalid("overlap", $"must be at most {XmlConvert.ToString(max)} (Gateway:Keys:MaxRotationOverlap).");
    }

    private static bool TryParseDuration(string text, out TimeSpan value)
    {
        try
        {
            value = XmlConvert.ToTimeSpan(text);
            return true;
        }
        catch (FormatException)
        {
            value = default;
            return false;
        }
        catch (OverflowException)
        {
            value = default;
            return false;
        }
    }
}

/// <summary>A key as the admin API shows it: never the hash, and the plaintext only in the creation response.</summary>
public sealed record KeyView(string Id, string CustomerId, string Plan, string Status, string DisplayPrefix, DateTimeOffset CreatedAt, DateTimeOffset? StatusChangedAt, string? Name = null, DateTimeOffset? ExpiresAt = null, string? Key = null, KeyLicenceView? Licence = null)
{
    public static KeyView Of(ApiKeyRecord r, string? key = null) =>
        new(r.Id, r.CustomerId, r.Plan, r.Status.ToString().ToLowerInvariant(), r.DisplayPrefix, r.CreatedAt, r.StatusChangedAt, r.Name, r.ExpiresAt, key);
}

/// <summary>A rotation's answer: the old key, now with its expiry, and the new key with its plaintext.</summary>
public sealed record RotatedKeyView(KeyView Old, KeyView New);

/// <summary>A plan of the catalog as the admin API shows it; <c>Billable</c> is its billable set (outcome names).</summary>
public sealed record PlanView(string Name, string DisplayName, double RequestsPerSecond, int Burst, long MonthlyQuota, string OverQuota, IReadOnlyList<string> RouteGroups, decimal PricePerMonth, decimal OveragePricePerThousand, int MaxKeys, IReadOnlyList<string> Billable)
{
    public static PlanView Of(Plan p) => new(
        p.Name, p.DisplayName, p.RequestsPerSecond, p.Burst, p.MonthlyQuota, p.OverQuota.ToString().ToLowerInvariant(),
        [.. p.RouteGroups.Order(StringComparer.Ordinal)], p.PricePerMonth, p.OveragePricePerThousand, p.MaxKeys, p.Billable.Names);
}

/// <summary>A key's licence as stored at issuance (or its last change of terms): the declared purpose and the terms in force.</summary>
public sealed record KeyLicenceView(int Version, DateTimeOffset Since, string Purpose, Gateway.Compliance.LicenceTerms Terms)
{
    public static KeyLicenceView Of(Gateway.Compliance.KeyLicence licence) => new(licence.Version, licence.Since, licence.Purpose, licence.Terms);
}
