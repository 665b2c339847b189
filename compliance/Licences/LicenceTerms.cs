using System.Text.RegularExpressions;

namespace Gateway.Compliance;

/// <summary>The purposes this deployment names; plans may permit others of the same shape.</summary>
public static partial class LicencePurposes
{
    public const string Display = "display";
    public const string Analytics = "analytics";
    public const string Research = "research";
    public const string AiTraining = "ai-training";

    /// <summary>What any purpose looks like: lowercase words joined by hyphens, at most 32 characters.</summary>
    [GeneratedRegex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$")]
    private static partial Regex Shape();

    public static bool IsWellFormed(string? purpose) => purpose is { Length: > 0 and <= 32 } && Shape().IsMatch(purpose);
}

/// <summary>
/// What a key's holder may do with the data: the route groups covered, permitted purposes, redistribution, a daily
/// record cap (0: none), the most client networks and user agents per hour, and how long data may be kept.
/// A plan's terms come from configuration; a key's terms are its plan's with the admin's overrides, fixed at issuance.
/// </summary>
public sealed record LicenceTerms(
    IReadOnlyList<string> RouteGroups,
    IReadOnlyList<string> Purposes,
    bool Redistribution,
    long DailyRecordCap,
    int MaxClientNetworks,
    int MaxUserAgents,
    int RetentionDays)
{
    public bool Permits(string purpose) => Purposes.Contains(purpose, StringComparer.Ordinal);

    /// <summary>These terms with every field <paramref name="changes"/> sets replaced.</summary>
    public LicenceTerms With(LicenceOverride? changes) => changes is null ? this : this with
    {
        Purposes = changes.Purposes is { } purposes ? [.. purposes.Select(p => p.Trim().ToLowerInvariant()).Distinct(StringComparer.Ordinal)] : Purposes,
        Redistribution = changes.Redistribution ?? Redistribution,
        DailyRecordCap = changes.DailyRecordCap ?? DailyRecordCap,
        MaxClientNetworks = changes.MaxClientNetworks ?? MaxClientNetworks,
        MaxUserAgents = changes.MaxUserAgents ?? MaxUserAgents,
        RetentionDays = changes.RetentionDays ?? RetentionDays,
    };
}

/// <summary>An admin's changes to a plan's terms for one key, as sent in the issue-key request (<c>licence</c>); unset fields keep the plan's.</summary>
public sealed record LicenceOverride(
    IReadOnlyList<string>? Purposes = null,
    bool? Redistribution = null,
    long? DailyRecordCap = null,
    int? MaxClientNetworks = null,
    int? MaxUserAgents = null,
    int? RetentionDays = null);
