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

/// <summary>The actions the audit log records, by these names.</summary>
public static class AuditActions
{
    public const string CustomerCreated = "customer.created";
    public const string CustomerUpdated = "customer.updated";
    public const string CustomerDeleted = "customer.deleted";
    public const string KeyIssued = "key.issued";
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

    /// <summary>The longest period one read may span, and the most entries it answers.</summary>
    public static readonly TimeSpan MaxPeriod = TimeSpan.FromDays(31);
    public const int MaxEntries = 1000;

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

    /// <summary>Entries in [from, to), oldest first, matching every filter given; at most <see cref="MaxEntries"/>.</summary>
    public async Task<IReadOnlyList<AuditEntry>> ReadAsync(DateTimeOffset from, DateTimeOffset to, string? actor, string? target, string? action, CancellationToken cancellationToken)
    {
        var entries = new List<AuditEntry>();
        var fromKey = $"{from.UtcTicks:D19}";
        var toKey = $"{to.UtcTicks:D19}";
        for (var day = from.UtcDateTime.Date; day < to.UtcDateTime && entries.Count < MaxEntries; day = day.AddDays(1))
        {
            var partition = Day(new DateTimeOffset(day, TimeSpan.Zero));
            await foreach (var e in _table.QueryAsync<TableEntity>(
                e => e.PartitionKey == partition && e.RowKey.CompareTo(fromKey) >= 0 && e.RowKey.CompareTo(toKey) < 0,
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
                if ((actor is null || entry.Actor == actor) && (target is null || entry.Target == target) && (action is null || entry.Action == action))
                {
                    entries.Add(entry);
                    if (entries.Count == MaxEntries)
                    {
                        break;
                    }
                }
            }
        }

        return entries;
    }

    private static string Day(DateTimeOffset at) => at.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
}
