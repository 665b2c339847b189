using Gateway.Core.Keys;
using Gateway.Core.Plans;

namespace Gateway.ControlPlane.Contracts;

/// <summary>Body of <c>POST /admin/v1/customers</c>.</summary>
public sealed record CreateCustomerRequest(string? Name, string? Email);

/// <summary>Body of <c>PATCH /admin/v1/customers/{id}</c>: the fields to change.</summary>
public sealed record UpdateCustomerRequest(string? Name, string? Email);

/// <summary>The query of <c>GET /admin/v1/customers</c>, as sent.</summary>
public sealed record CustomerQuery(string? Search, string? ContinuationToken, string? Limit)
{
    public static CustomerQuery Of(Microsoft.AspNetCore.Http.IQueryCollection query) => new(query["search"], query["continuationToken"], query["limit"]);
}

/// <summary>Body of <c>POST /admin/v1/keys</c>.</summary>
public sealed record CreateKeyRequest(string? CustomerId, string? Plan);

/// <summary>A key as the admin API shows it: never the hash, and the plaintext only in the creation response.</summary>
public sealed record KeyView(string Id, string CustomerId, string Plan, string Status, string DisplayPrefix, DateTimeOffset CreatedAt, DateTimeOffset? StatusChangedAt, string? Key = null)
{
    public static KeyView Of(ApiKeyRecord r, string? key = null) =>
        new(r.Id, r.CustomerId, r.Plan, r.Status.ToString().ToLowerInvariant(), r.DisplayPrefix, r.CreatedAt, r.StatusChangedAt, key);
}

/// <summary>A plan of the catalog as the admin API shows it.</summary>
public sealed record PlanView(string Name, string DisplayName, double RequestsPerSecond, int Burst, long MonthlyQuota, string OverQuota, IReadOnlyList<string> RouteGroups, decimal PricePerMonth, decimal OveragePricePerThousand)
{
    public static PlanView Of(Plan p) => new(
        p.Name, p.DisplayName, p.RequestsPerSecond, p.Burst, p.MonthlyQuota, p.OverQuota.ToString().ToLowerInvariant(),
        [.. p.RouteGroups.Order(StringComparer.Ordinal)], p.PricePerMonth, p.OveragePricePerThousand);
}
