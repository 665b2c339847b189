using System.Globalization;
using System.Security.Cryptography;
using Azure.Data.Tables;
using Gateway.ControlPlane.Security;
using Gateway.Core.Storage;
using Microsoft.AspNetCore.Http;

namespace Gateway.ControlPlane.Audit;

/// <summary>
/// One entry of the audit log: who (token subject, or <c>admin-token</c>) with which role did what to which target,
/// from where, and a summary of what changed. Never a secret: no key, no token, no hash.
/// </summary>
public sealed record AuditEntry(DateTimeOffset Time, string Actor, string Role, string Action, string Target, string? Source, string Summary);

/// <summary>The filters of an audit read: each given one must equal the entry's field.</summary>
public sealed record AuditFilter(string? Actor, string? Target, string? Action)
{
    public bool Matches(AuditEntry entry) =>
        (Actor is null || entry.Actor == Actor) && (Target is null || entry.Target == Target) && (Action is null || entry.Action == Action);
}

/// <summary>A page of the audit log, oldest first, and the token for the next page (null on the last).</summary>
public sealed record AuditPage(IReadOnlyList<AuditEntry> Items, string? ContinuationToken);

/// <summary>The actions the audit log records, by these names.</summary>
public static class AuditActions
{
    public const string CustomerCreated = "customer.created";
    public const string CustomerUpdated = "customer.updated";
    public const string CustomerDeleted = "customer.deleted";
    public const string SpendCapChanged = "customer.spend-cap-changed";
    public const string KeyIssued = "key.issued";
    public const string KeysIssuedInBulk = "keys.issued";
    public const string KeyRenamed = "key.renamed";
    public const string KeyPlanChanged = "key.plan-changed";
    public const string KeyRotated = "key.rotated";
    public const string KeyRevoked = "key.revoked";
    public const string KeySuspended = "key.suspended";
    public const string KeyReactivated = "key.reactivated";
    public const string TokenIssued = "token.issued";
    public const string SignInFailed = "sign-in.failed";
    public const string PortalSignIn = "sign-in.portal";
}

/// <summary>
/// The append-only audit log in Table Storage: partition = UTC day (<c>yyyyMMdd</c>), row key = time in ticks and a
/// random suffix, written insert-only (never updated or deleted). An entry is written after the change it records
/// succeeded; if that write fails the caller gets 503 and the change stands (retrying the request is then refused
/// or repeats an idempotent change, which is recorded).
/// </summary>
public sealed class AuditLog(GatewayTables tables, TimeProvider time)
{
    public const string TableName = TableNames.Audit;

    /// <summary>The longest period one read may span.</summary>
    public static readonly TimeSpan MaxPeriod = TimeSpan.FromDays(31);

    /// <summary>Entries per page unless the caller asks for fewer or more (<c>limit</c>), and the most one page holds.</summary>
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;

    private readonly TableClient _table = tables.Table(TableNames.Audit);

    /// <summary>Records an action by the request's caller.</summary>
    public Task RecordAsync(HttpContext context, string action, string target, string summary, CancellationToken cancellationToken)
    {
        var caller = ControlPlaneCaller.Of(context.User);
        return AppendAsync(new AuditEntry(time.GetUtcNow(), caller.Subject, caller.Role, action, target, context.Connection.RemoteIpAddress?.ToString(), summary), cancellationToken);
    }

    /// <summary>Records a refused sign-in (never the credential that was sent).</summary>
    public Task RecordFailedSignInAsync(HttpContext context, string scheme, string reason) =>
        AppendAsync(new AuditEntry(time.GetUtcNow(), "unknown", "", AuditActions.SignInFailed, context.Request.Path, context.Connection.RemoteIpAddress?.ToString(), $"{scheme}: {reason}"), context.RequestAborted);

    public Task AppendAsync(AuditEntry entry, CancellationToken cancellationToken)
    {
        var at = entry.Time.ToUniversalTime();
        var entity = new TableEntity(Day(at), $"{at.UtcTicks:D19}-{RandomNumberGenerator.GetHexString(8, lowercase: true)}")
        {
            ["Time"] = at,
            ["Actor"] = entry.Actor,
            ["Role"] = entry.Role,
            ["Action"] = entry.Action,
            ["Target"] = entry.Target,
            ["Source"] = entry.Source,
            ["Summary"] = entry.Summary,
        };
        return _table.AddEntityAsync(entity, cancellationToken);
    }

    /// <summary>
    /// A page of the entries in [from, to) that match every filter given, oldest first: at most
    /// <paramref name="pageSize"/>, after the entry whose row key is <paramref name="after"/> (the previous page's
    /// continuation token). The page's token is the row key of its last entry, or null when nothing matching follows.
    /// Row keys begin with the entry's ticks, so a token also names the day partition to resume in.
    /// </summary>
    public async Task<AuditPage> ReadPageAsync(DateTimeOffset from, DateTimeOffset to, AuditFilter filter, string? after, int pageSize, CancellationToken cancellationToken)
    {
        var entries = new List<(string RowKey, AuditEntry Entry)>();
        var fromKey = $"{from.UtcTicks:D19}";
        var toKey = $"{to.UtcTicks:D19}";
        var start = after is not null && TicksOf(after) is { } resume && resume > from.UtcTicks ? new DateTimeOffset(resume, TimeSpan.Zero) : from;
        // A row key is its ticks, '-' and a suffix, so it sorts after the bare ticks of its own time: "> lowest" is
        // ">= from" when no token is later than from.
        var lowest = after is not null && string.CompareOrdinal(after, fromKey) >= 0 ? after : fromKey;
        for (var day = start.UtcDateTime.Date; day < to.UtcDateTime && entries.Count <= pageSize; day = day.AddDays(1))
        {
            var partition = Day(new DateTimeOffset(day, TimeSpan.Zero));
            await foreach (var e in _table.QueryAsync<TableEntity>(
                e => e.PartitionKey == partition && e.RowKey.CompareTo(lowest) > 0 && e.RowKey.CompareTo(toKey) < 0,
                cancellationToken: cancellationToken))
            {
                var entry = new AuditEntry(
                    e.GetDateTimeOffset("Time") ?? default,
                    e.GetString("Actor"),
                    e.GetString("Role"),
                    e.GetString("Action"),
                    e.GetString("Target"),
                    e.GetString("Source"),
                    e.GetString("Summary"));
                if (filter.Matches(entry))
                {
                    entries.Add((e.RowKey, entry));
                    if (entries.Count > pageSize)
                    {
                        break;
                    }
                }
            }
        }

        var more = entries.Count > pageSize;
        var page = entries.Take(pageSize).ToList();
        return new AuditPage([.. page.Select(p => p.Entry)], more ? page[^1].RowKey : null);
    }

    private static readonly System.Buffers.SearchValues<char> LowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");

    /// <summary>Whether <paramref name="token"/> is a continuation token this log answers: a row key's shape, a time in range.</summary>
    public static bool IsContinuationToken(string token) => TicksOf(token) is not null;

    /// <summary>The ticks a row key begins with, or null if it is not a row key of this log.</summary>
    private static long? TicksOf(string rowKey) =>
        rowKey.Length == 28 && rowKey[19] == '-'
            && long.TryParse(rowKey.AsSpan(0, 19), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            && ticks <= DateTimeOffset.MaxValue.UtcTicks
            && !rowKey.AsSpan(20).ContainsAnyExcept(LowerHex)
            ? ticks
            : null;

    private static string Day(DateTimeOffset at) => at.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
}
