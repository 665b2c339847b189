namespace Gateway.Compliance;

/// <summary>The kinds of flag detection raises (the names are part of the API and the <c>compliance-flags</c> topic).</summary>
public static class FlagKinds
{
    public const string OverQuota = "over_quota";
    public const string UnlicensedRoute = "unlicensed_route";
    public const string UseAfterRevocation = "use_after_revocation";
    public const string KeySharing = "key_sharing";
    public const string BulkHarvesting = "bulk_harvesting";

    /// <summary>A canary record found in the wild (<c>POST /admin/v1/compliance/canaries/found</c>), not by the scan.</summary>
    public const string RedistributionSuspected = "redistribution_suspected";

    /// <summary>The kinds this version detects, in the order a scan evaluates them.</summary>
    public static readonly IReadOnlyList<string> Detected = [OverQuota, UnlicensedRoute, UseAfterRevocation, KeySharing, BulkHarvesting];
}

/// <summary>A flag's review state: <c>open</c> → <c>acknowledged</c> → <c>dismissed</c> or <c>confirmed</c>. Open and acknowledged flags still grow.</summary>
public static class FlagStatuses
{
    public const string Open = "open";
    public const string Acknowledged = "acknowledged";
    public const string Dismissed = "dismissed";
    public const string Confirmed = "confirmed";

    public static bool IsOngoing(string status) => status is Open or Acknowledged;
}

public static class FlagSeverities
{
    public const string Low = "low";
    public const string Medium = "medium";
    public const string High = "high";
}

/// <summary>
/// One ongoing behaviour of one key: what kind, how serious, over which hours (<see cref="To"/> exclusive), where review
/// stands, and the evidence in numbers and in words. Its id is <c>{keyId}.{kind}.{sequence}</c>.
/// </summary>
public sealed record ComplianceFlag(
    string Id,
    string Kind,
    string CustomerId,
    string KeyId,
    string Severity,
    DateTimeOffset From,
    DateTimeOffset To,
    string Status,
    IReadOnlyDictionary<string, long> Evidence,
    string Summary,
    string? Purpose = null,
    int? LicenceVersion = null);

/// <summary>What one scan found for one key and kind, before it is stored as a new flag or grows an ongoing one.</summary>
public sealed record FlagCandidate(
    string Kind,
    string CustomerId,
    string KeyId,
    string Severity,
    DateTimeOffset From,
    DateTimeOffset To,
    IReadOnlyDictionary<string, long> Evidence,
    string Summary,
    string? Purpose,
    int? LicenceVersion);
