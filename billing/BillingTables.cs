using Azure.Data.Tables;
using Gateway.Core.Storage;

namespace Gateway.Billing;

/// <summary>Billing's own tables, beside the gateway's (same account and prefix).</summary>
public sealed class BillingTables(GatewayTables tables)
{
    /// <summary>Gateway customer ↔ Stripe customer (partition: gateway customer id).</summary>
    public const string CustomerLinksName = "BillingCustomers";

    /// <summary>What was reported to Stripe per customer and hour (partition: <c>{customerId}|{yyyyMM}</c>).</summary>
    public const string WatermarksName = "BillingWatermarks";

    /// <summary>Per Stripe customer: the newest payment and subscription events applied (partition: Stripe customer id).</summary>
    public const string AccountsName = "BillingAccounts";

    /// <summary>Stripe event ids, insert-only claims (partition: event id).</summary>
    public const string WebhookEventsName = "BillingWebhookEvents";

    public TableClient CustomerLinks { get; } = tables.Table(CustomerLinksName);

    public TableClient Accounts { get; } = tables.Table(AccountsName);

    public TableClient WebhookEvents { get; } = tables.Table(WebhookEventsName);

    public TableClient Watermarks { get; } = tables.Table(WatermarksName);

    // Set once every table exists; tables are never deleted, so a stale read only repeats the creation (idempotent).
    private volatile bool _created;

    /// <summary>Creates the tables on first use in this process; later calls cost nothing (webhooks answer fast).</summary>
    public async Task EnsureCreatedAsync(CancellationToken cancellationToken)
    {
        if (_created)
        {
            return;
        }

        await CustomerLinks.CreateIfNotExistsAsync(cancellationToken);
        await Watermarks.CreateIfNotExistsAsync(cancellationToken);
        await Accounts.CreateIfNotExistsAsync(cancellationToken);
        await WebhookEvents.CreateIfNotExistsAsync(cancellationToken);
        _created = true;
    }
}
