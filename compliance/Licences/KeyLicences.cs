using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Gateway.Core.Problems;

namespace Gateway.Compliance;

/// <summary>
/// A key's licence as of <see cref="Since"/>: the purpose its holder declared and the terms in force. Versions count
/// from 1 (issuance); a change of terms (a plan change) adds the next version, and earlier ones are kept.
/// </summary>
public sealed record KeyLicence(string KeyId, string CustomerId, string Plan, int Version, DateTimeOffset Since, string Purpose, LicenceTerms Terms);

/// <summary>What issuing a key under licence was checked to: the purpose declared and the terms that will be stored.</summary>
public sealed record LicenceGrant(string Purpose, LicenceTerms Terms);

/// <summary>Checks a declared purpose against a plan's terms, and keeps each key's licence versions (table <see cref="ComplianceTables.KeyLicences"/>).</summary>
public sealed class KeyLicences(LicenceCatalog catalog, ComplianceTables tables, TimeProvider time)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// The licence a key on <paramref name="plan"/> would get. No purpose: the terms' first. A purpose outside the
    /// terms, or overrides that make no sense, are a 400. A plan the catalog does not have answers null: the issuer reports it.
    /// </summary>
    public Outcome<LicenceGrant>? Check(string? plan, string? purpose, LicenceOverride? changes)
    {
        if (!catalog.TryGetTerms(plan, out var planTerms))
        {
            return null;
        }

        if (changes is not null && Invalid(changes) is { } invalid)
        {
            return invalid;
        }

        var terms = planTerms.With(changes);
        if (terms.Purposes.Count == 0)
        {
            return ApiProblem.Invalid("licence.purposes", "must permit at least one purpose.");
        }

        var declared = purpose?.Trim().ToLowerInvariant() ?? terms.Purposes[0];
        if (!LicencePurposes.IsWellFormed(declared))
        {
            return ApiProblem.Invalid("purpose", "must be lowercase words joined by hyphens, at most 32 characters (display, analytics, research, ai-training, …).");
        }

        return terms.Permits(declared)
            ? new LicenceGrant(declared, terms)
            : ApiProblem.Invalid("purpose", $"'{declared}' is not permitted by the licence; permitted: {string.Join(", ", terms.Purposes)}.");
    }

    private static ApiProblem? Invalid(LicenceOverride changes) =>
        changes.Purposes?.Any(p => !LicencePurposes.IsWellFormed(p?.Trim().ToLowerInvariant())) == true ? ApiProblem.Invalid("licence.purposes", "each must be lowercase words joined by hyphens, at most 32 characters.")
        : changes.DailyRecordCap < 0 ? ApiProblem.Invalid("licence.dailyRecordCap", "must be 0 (no cap) or more.")
        : changes.MaxClientNetworks is < 1 or > 4096 ? ApiProblem.Invalid("licence.maxClientNetworks", "must be from 1 to 4096.")
        : changes.MaxUserAgents is < 1 or > 4096 ? ApiProblem.Invalid("licence.maxUserAgents", "must be from 1 to 4096.")
        : changes.RetentionDays is < 0 or > 36500 ? ApiProblem.Invalid("licence.retentionDays", "must be from 0 to 36500.")
        : null;

    /// <summary>Stores the next version of a key's licence (version 1 at issuance). Insert-only: two writers of one version cannot both land; the loser takes the next.</summary>
    public async Task<KeyLicence> AddVersionAsync(string keyId, string customerId, string plan, LicenceGrant grant, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(ComplianceTables.KeyLicences);
        while (true)
        {
            var current = await CurrentAsync(keyId, cancellationToken);
            var licence = new KeyLicence(keyId, customerId, plan, (current?.Version ?? 0) + 1, time.GetUtcNow(), grant.Purpose, grant.Terms);
            try
            {
                await table.AddEntityAsync(ToEntity(licence), cancellationToken);
                return licence;
            }
            catch (RequestFailedException e) when (e.Status == 409)
            {
                // Another writer took this version: read again and take the next.
            }
        }
    }

    /// <summary>
    /// A key moved to another plan: a new version with the new plan's terms and the purpose declared before (kept even
    /// if the new terms do not permit it: the holder declared it, and detection judges use against the terms).
    /// </summary>
    public async Task FollowPlanChangeAsync(Gateway.Core.Keys.ApiKeyRecord key, CancellationToken cancellationToken)
    {
        if (catalog.TryGetTerms(key.Plan, out var terms))
        {
            var purpose = (await CurrentAsync(key.Id, cancellationToken))?.Purpose ?? terms.Purposes[0];
            await AddVersionAsync(key.Id, key.CustomerId, key.Plan, new LicenceGrant(purpose, terms), cancellationToken);
        }
    }

    /// <summary>A rotation's new key holds the old key's licence (purpose and terms, overrides included) as its version 1.</summary>
    public async Task CarryOverAsync(string oldKeyId, Gateway.Core.Keys.ApiKeyRecord newKey, CancellationToken cancellationToken)
    {
        var old = await CurrentAsync(oldKeyId, cancellationToken);
        var grant = old is not null ? new LicenceGrant(old.Purpose, old.Terms) : Check(newKey.Plan, null, null) is { Succeeded: true } checkedGrant ? checkedGrant.Value : null;
        if (grant is not null)
        {
            await AddVersionAsync(newKey.Id, newKey.CustomerId, newKey.Plan, grant, cancellationToken);
        }
    }

    /// <summary>The key's licence now (its latest version), or null for a key issued before licences were stored.</summary>
    public async Task<KeyLicence?> CurrentAsync(string keyId, CancellationToken cancellationToken)
    {
        var history = await HistoryAsync(keyId, cancellationToken);
        return history.Count == 0 ? null : history[^1];
    }

    /// <summary>Every version of the key's licence, oldest first.</summary>
    public async Task<IReadOnlyList<KeyLicence>> HistoryAsync(string keyId, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(ComplianceTables.KeyLicences);
        var versions = new List<KeyLicence>();
        await foreach (var entity in table.QueryAsync<TableEntity>(e => e.PartitionKey == keyId, cancellationToken: cancellationToken))
        {
            versions.Add(FromEntity(entity));
        }

        return versions;
    }

    /// <summary>Row key of a version: zero-padded, so rows sort by version.</summary>
    private static string RowKey(int version) => version.ToString("D8", CultureInfo.InvariantCulture);

    private static TableEntity ToEntity(KeyLicence licence) => new(licence.KeyId, RowKey(licence.Version))
    {
        ["CustomerId"] = licence.CustomerId,
        ["Plan"] = licence.Plan,
        ["Version"] = licence.Version,
        ["Since"] = licence.Since,
        ["Purpose"] = licence.Purpose,
        ["Terms"] = JsonSerializer.Serialize(licence.Terms, Json),
    };

    private static KeyLicence FromEntity(TableEntity e) => new(
        e.PartitionKey,
        e.GetString("CustomerId"),
        e.GetString("Plan"),
        e.GetInt32("Version") ?? 0,
        e.GetDateTimeOffset("Since") ?? default,
        e.GetString("Purpose"),
        JsonSerializer.Deserialize<LicenceTerms>(e.GetString("Terms"), Json)!);
}
