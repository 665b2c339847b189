using Azure;
using Azure.Data.Tables;

namespace Gateway.Billing.Webhooks;

/// <summary>
/// Which Stripe event a stored state came from: its <c>created</c> time, ties broken by event id (so any two events
/// are ordered the same way whatever order they arrive in).
/// </summary>
public readonly record struct EventStamp(long Created, string EventId)
{
    public bool IsNewerThan(EventStamp? stored) =>
        stored is not { } other || Created > other.Created || (Created == other.Created && string.CompareOrdinal(EventId, other.EventId) > 0);
}

/// <summary>
/// What billing knows of one Stripe customer, from the newest events applied: whether the last invoice failed (and
/// when the grace ends), the subscription's plan and whether it was cancelled. <see cref="Version"/> is the row's
/// ETag: a re-read with another version means a newer event landed meanwhile.
/// </summary>
public sealed record BillingAccount(
    string StripeCustomerId,
    EventStamp? Payment,
    bool PaymentFailed,
    DateTimeOffset? SuspendAt,
    EventStamp? Subscription,
    string? Plan,
    bool Cancelled,
    string Version)
{
    public static BillingAccount New(string stripeCustomerId) => new(stripeCustomerId, null, false, null, null, null, false, "");

    /// <summary>The grace after a failed payment is over: the customer's keys are to be suspended.</summary>
    public bool SuspensionDue(DateTimeOffset now) => PaymentFailed && SuspendAt <= now;
}

/// <summary>
/// Billing state per Stripe customer (<c>BillingAccounts</c>, partition = Stripe customer id, row <c>account</c>) and
/// the keys billing suspended (partition <c>suspended|{customerId}</c>, row = key id: the suspension's cause, so that
/// a paid invoice reactivates only those, never a key an admin suspended).
/// Ordering rule: every account write is conditional on the ETag read, and a handler changes the row only with a
/// newer <see cref="EventStamp"/> than the one stored; so of two events the newer one's state stands whatever order
/// they are applied in, and an older event never undoes a newer one (raced in StripeWebhookTests).
/// </summary>
public sealed class BillingAccounts(BillingTables tables)
{
    private const string AccountRow = "account";

    public async Task<BillingAccount?> FindAsync(string stripeCustomerId, CancellationToken cancellationToken)
    {
        var row = await tables.Accounts.GetEntityIfExistsAsync<TableEntity>(stripeCustomerId, AccountRow, cancellationToken: cancellationToken);
        return row.HasValue ? ToAccount(row.Value!) : null;
    }

    /// <summary>
    /// Applies <paramref name="change"/> to the stored account (a new one when none is stored), conditional on what it
    /// read; re-read and re-applied on a conflict. The change answers null to leave the account as it is. Answers
    /// whether this call changed it.
    /// </summary>
    public async Task<bool> ChangeAsync(string stripeCustomerId, Func<BillingAccount, BillingAccount?> change, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var stored = await FindAsync(stripeCustomerId, cancellationToken);
            var changed = change(stored ?? BillingAccount.New(stripeCustomerId));
            if (changed is null)
            {
                return false;
            }

            try
            {
                var entity = ToEntity(changed);
                if (stored is null)
                {
                    await tables.Accounts.AddEntityAsync(entity, cancellationToken);
                }
                else
                {
                    await tables.Accounts.UpdateEntityAsync(entity, new ETag(stored.Version), TableUpdateMode.Replace, cancellationToken);
                }

                return true;
            }
            catch (RequestFailedException e) when (StripeCustomerLinks.IsConflict(e) && attempt < 20)
            {
                // Another event for this customer landed meanwhile: read it and decide again.
            }
        }
    }

    /// <summary>Accounts whose grace after a failed payment has ended at <paramref name="now"/>.</summary>
    public async Task<IReadOnlyList<BillingAccount>> ListSuspensionDueAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var due = new List<BillingAccount>();
        var filter = TableClient.CreateQueryFilter($"RowKey eq {AccountRow} and PaymentFailed eq {true} and SuspendAt le {now}");
        await foreach (var row in tables.Accounts.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            due.Add(ToAccount(row));
        }

        return due;
    }

    /// <summary>Records that billing suspends <paramref name="keyId"/>: written before the suspension, so no key billing suspended goes unrecorded.</summary>
    public async Task RecordSuspensionAsync(string customerId, string keyId, CancellationToken cancellationToken) =>
        await tables.Accounts.UpsertEntityAsync(new TableEntity(SuspendedPartition(customerId), keyId), TableUpdateMode.Replace, cancellationToken);

    public async Task<IReadOnlyList<string>> ListSuspendedKeysAsync(string customerId, CancellationToken cancellationToken)
    {
        var partition = SuspendedPartition(customerId);
        var keys = new List<string>();
        await foreach (var row in tables.Accounts.QueryAsync<TableEntity>(e => e.PartitionKey == partition, select: ["RowKey"], cancellationToken: cancellationToken))
        {
            keys.Add(row.RowKey);
        }

        return keys;
    }

    public async Task ForgetSuspensionAsync(string customerId, string keyId, CancellationToken cancellationToken)
    {
        try
        {
            await tables.Accounts.DeleteEntityAsync(SuspendedPartition(customerId), keyId, ETag.All, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
        }
    }

    private static string SuspendedPartition(string customerId) => "suspended|" + customerId;

    private static TableEntity ToEntity(BillingAccount a) => new(a.StripeCustomerId, AccountRow)
    {
        ["PaymentCreated"] = a.Payment?.Created,
        ["PaymentEventId"] = a.Payment?.EventId,
        ["PaymentFailed"] = a.PaymentFailed,
        ["SuspendAt"] = a.SuspendAt,
        ["SubscriptionCreated"] = a.Subscription?.Created,
        ["SubscriptionEventId"] = a.Subscription?.EventId,
        ["Plan"] = a.Plan,
        ["Cancelled"] = a.Cancelled,
    };

    private static BillingAccount ToAccount(TableEntity e) => new(
        e.PartitionKey,
        e.GetInt64("PaymentCreated") is { } paid ? new EventStamp(paid, e.GetString("PaymentEventId")) : null,
        e.GetBoolean("PaymentFailed") == true,
        e.GetDateTimeOffset("SuspendAt"),
        e.GetInt64("SubscriptionCreated") is { } sub ? new EventStamp(sub, e.GetString("SubscriptionEventId")) : null,
        e.GetString("Plan"),
        e.GetBoolean("Cancelled") == true,
        e.ETag.ToString());
}
