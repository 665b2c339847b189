using Azure;
using Azure.Data.Tables;

namespace Gateway.Billing;

/// <summary>A gateway customer billed as a Stripe customer.</summary>
public sealed record StripeCustomerLink(string CustomerId, string StripeCustomerId);

/// <summary>
/// The gateway-customer ↔ Stripe-customer link, in billing's own table (the Customer model stays billing-free).
/// One row per gateway customer; linking again replaces the Stripe id. A second row, partition
/// <c>stripe|{stripeCustomerId}</c>, row <c>customer</c>, finds the gateway customer of a Stripe customer (webhooks);
/// it is written first, so a gateway row never exists without its reverse row.
/// </summary>
public sealed class StripeCustomerLinks(BillingTables tables)
{
    private const string RowKey = "stripe";
    private const string ReverseRowKey = "customer";

    public async Task LinkAsync(string customerId, string stripeCustomerId, CancellationToken cancellationToken)
    {
        await tables.CustomerLinks.UpsertEntityAsync(
            new TableEntity(ReversePartition(stripeCustomerId), ReverseRowKey) { ["CustomerId"] = customerId },
            TableUpdateMode.Replace,
            cancellationToken);
        await tables.CustomerLinks.UpsertEntityAsync(
            new TableEntity(customerId, RowKey) { ["StripeCustomerId"] = stripeCustomerId },
            TableUpdateMode.Replace,
            cancellationToken);
    }

    /// <summary>The gateway customer a Stripe customer is linked to, or null.</summary>
    public async Task<string?> FindCustomerAsync(string stripeCustomerId, CancellationToken cancellationToken)
    {
        var row = await tables.CustomerLinks.GetEntityIfExistsAsync<TableEntity>(ReversePartition(stripeCustomerId), ReverseRowKey, cancellationToken: cancellationToken);
        if (!row.HasValue)
        {
            return null;
        }

        // A relink moves the gateway row; the reverse row of the earlier Stripe customer then points at a gateway
        // customer that is now billed as another: it counts only while the gateway row agrees.
        var customerId = row.Value!.GetString("CustomerId");
        return (await FindAsync(customerId, cancellationToken))?.StripeCustomerId == stripeCustomerId ? customerId : null;
    }

    private static string ReversePartition(string stripeCustomerId) => "stripe|" + stripeCustomerId;

    public async Task<StripeCustomerLink?> FindAsync(string customerId, CancellationToken cancellationToken)
    {
        var row = await tables.CustomerLinks.GetEntityIfExistsAsync<TableEntity>(customerId, RowKey, cancellationToken: cancellationToken);
        return row.HasValue ? new StripeCustomerLink(customerId, row.Value!.GetString("StripeCustomerId")) : null;
    }

    public async Task<IReadOnlyList<StripeCustomerLink>> ListAsync(CancellationToken cancellationToken)
    {
        var links = new List<StripeCustomerLink>();
        await foreach (var row in tables.CustomerLinks.QueryAsync<TableEntity>(r => r.RowKey == RowKey, cancellationToken: cancellationToken))
        {
            links.Add(new StripeCustomerLink(row.PartitionKey, row.GetString("StripeCustomerId")));
        }

        return links;
    }

    /// <summary>Is the failure one of a row that changed (412) or appeared (409) since it was read?</summary>
    internal static bool IsConflict(RequestFailedException e) => e.Status is 409 or 412;
}
