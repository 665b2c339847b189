using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;

namespace Gateway.Compliance;

/// <summary>
/// The flags table (partition: key id; row: <c>{kind}.{sequence:D6}</c>). <b>Ordering rule: one ongoing behaviour
/// is one flag.</b> A key's newest flag of a kind, while open or acknowledged, is the only one a scan may grow, with
/// an ETag-conditional replace; a new flag is an insert of the next sequence number. Two scans at once therefore
/// either both grow the same row (the second re-reads on 412 and applies its numbers to the newer row) or race to
/// insert the same sequence (the loser's insert gets 409, it re-reads and grows the winner's flag): never two flags.
/// </summary>
public sealed class FlagTable(ComplianceTables tables)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Stores <paramref name="candidate"/> as a new flag or as growth of the ongoing one; null when the ongoing flag already
    /// says exactly this. <paramref name="grow"/>, when given, makes the candidate that grows an ongoing flag from that flag
    /// as read (re-applied on each retry, so growth that accumulates, such as a count of canaries found, loses nothing).
    /// </summary>
    public async Task<ComplianceFlag?> RaiseOrGrowAsync(FlagCandidate candidate, CancellationToken cancellationToken, Func<ComplianceFlag, FlagCandidate, FlagCandidate>? grow = null)
    {
        var original = candidate;
        var table = await tables.GetAsync(ComplianceTables.Flags);
        while (true)
        {
            var latest = await LatestAsync(table, candidate.KeyId, candidate.Kind, cancellationToken);
            try
            {
                if (latest is { } ongoing && FlagStatuses.IsOngoing(ongoing.Flag.Status))
                {
                    candidate = grow is null ? original : grow(ongoing.Flag, original);
                    var grown = ongoing.Flag with
                    {
                        Severity = Max(ongoing.Flag.Severity, candidate.Severity),
                        From = ongoing.Flag.From < candidate.From ? ongoing.Flag.From : candidate.From,
                        To = ongoing.Flag.To > candidate.To ? ongoing.Flag.To : candidate.To,
                        Evidence = candidate.Evidence,
                        Summary = candidate.Summary,
                    };
                    if (grown.Severity == ongoing.Flag.Severity && grown.From == ongoing.Flag.From && grown.To == ongoing.Flag.To && grown.Evidence.SequenceEqual(ongoing.Flag.Evidence))
                    {
                        return null;
                    }

                    await table.UpdateEntityAsync(ToEntity(grown), ongoing.ETag, TableUpdateMode.Replace, cancellationToken);
                    return grown;
                }

                var sequence = latest is null ? 1 : Sequence(latest.Value.Flag.Id) + 1;
                var flag = new ComplianceFlag(
                    $"{candidate.KeyId}.{candidate.Kind}.{sequence.ToString("D6", CultureInfo.InvariantCulture)}",
                    candidate.Kind, candidate.CustomerId, candidate.KeyId, candidate.Severity, candidate.From, candidate.To,
                    FlagStatuses.Open, candidate.Evidence, candidate.Summary, candidate.Purpose, candidate.LicenceVersion);
                await table.AddEntityAsync(ToEntity(flag), cancellationToken);
                return flag;
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412)
            {
                // Another scan wrote this key's flag of this kind meanwhile: read again and grow what it wrote.
            }
        }
    }

    /// <summary>A key's flags, oldest first.</summary>
    public async Task<IReadOnlyList<ComplianceFlag>> ForKeyAsync(string keyId, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(ComplianceTables.Flags);
        var flags = new List<ComplianceFlag>();
        await foreach (var e in table.QueryAsync<TableEntity>(e => e.PartitionKey == keyId, cancellationToken: cancellationToken))
        {
            flags.Add(FromEntity(e));
        }

        return flags;
    }

    /// <summary>Flags matching the filters (any may be null), one page of at most <paramref name="pageSize"/>, with the token for the next.</summary>
    public async Task<(IReadOnlyList<ComplianceFlag> Items, string? ContinuationToken)> ListAsync(string? customerId, string? keyId, string? kind, string? status, int pageSize, string? continuationToken, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(ComplianceTables.Flags);
        var filters = new List<string>();
        if (keyId is not null)
        {
            filters.Add(TableClient.CreateQueryFilter($"PartitionKey eq {keyId}"));
        }

        if (customerId is not null)
        {
            filters.Add(TableClient.CreateQueryFilter($"CustomerId eq {customerId}"));
        }

        if (kind is not null)
        {
            filters.Add(TableClient.CreateQueryFilter($"Kind eq {kind}"));
        }

        if (status is not null)
        {
            filters.Add(TableClient.CreateQueryFilter($"Status eq {status}"));
        }

        var pages = table.QueryAsync<TableEntity>(filters.Count == 0 ? null : string.Join(" and ", filters), maxPerPage: pageSize, cancellationToken: cancellationToken)
            .AsPages(continuationToken, pageSize);
        await foreach (var page in pages)
        {
            return ([.. page.Values.Select(FromEntity)], page.ContinuationToken);
        }

        return ([], null);
    }

    /// <summary>A flag by id, with its ETag; null for an id no flag has.</summary>
    public async Task<(ComplianceFlag Flag, ETag ETag)?> FindAsync(string id, CancellationToken cancellationToken)
    {
        var parts = id.Split('.');
        if (parts.Length != 3)
        {
            return null;
        }

        var table = await tables.GetAsync(ComplianceTables.Flags);
        var found = await table.GetEntityIfExistsAsync<TableEntity>(parts[0], $"{parts[1]}.{parts[2]}", cancellationToken: cancellationToken);
        return found.HasValue ? (FromEntity(found.Value!), found.Value!.ETag) : null;
    }

    /// <summary>Replaces a flag if it is unchanged since <paramref name="etag"/>; false if it changed meanwhile.</summary>
    public async Task<bool> TryReplaceAsync(ComplianceFlag flag, ETag etag, CancellationToken cancellationToken)
    {
        var table = await tables.GetAsync(ComplianceTables.Flags);
        try
        {
            await table.UpdateEntityAsync(ToEntity(flag), etag, TableUpdateMode.Replace, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 412)
        {
            return false;
        }
    }

    private static async Task<(ComplianceFlag Flag, ETag ETag)?> LatestAsync(TableClient table, string keyId, string kind, CancellationToken cancellationToken)
    {
        (ComplianceFlag, ETag)? latest = null;
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {keyId} and RowKey gt {kind + "."} and RowKey lt {kind + "/"}");
        await foreach (var e in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            latest = (FromEntity(e), e.ETag);
        }

        return latest;
    }

    private static int Sequence(string id) => int.Parse(id[(id.LastIndexOf('.') + 1)..], CultureInfo.InvariantCulture);

    private static string Max(string a, string b) => Rank(a) >= Rank(b) ? a : b;

    private static int Rank(string severity) => severity switch { FlagSeverities.High => 3, FlagSeverities.Medium => 2, _ => 1 };

    private static TableEntity ToEntity(ComplianceFlag flag)
    {
        var parts = flag.Id.Split('.');
        return new TableEntity(flag.KeyId, $"{parts[1]}.{parts[2]}")
        {
            ["Id"] = flag.Id,
            ["Kind"] = flag.Kind,
            ["CustomerId"] = flag.CustomerId,
            ["Severity"] = flag.Severity,
            ["From"] = flag.From,
            ["To"] = flag.To,
            ["Status"] = flag.Status,
            ["Evidence"] = JsonSerializer.Serialize(flag.Evidence, Json),
            ["Summary"] = flag.Summary,
            ["Purpose"] = flag.Purpose,
            ["LicenceVersion"] = flag.LicenceVersion,
        };
    }

    private static ComplianceFlag FromEntity(TableEntity e) => new(
        e.GetString("Id"),
        e.GetString("Kind"),
        e.GetString("CustomerId"),
        e.PartitionKey,
        e.GetString("Severity"),
        e.GetDateTimeOffset("From") ?? default,
        e.GetDateTimeOffset("To") ?? default,
        e.GetString("Status"),
        JsonSerializer.Deserialize<Dictionary<string, long>>(e.GetString("Evidence"), Json) ?? [],
        e.GetString("Summary"),
        e.GetString("Purpose"),
        e.GetInt32("LicenceVersion"));
}
