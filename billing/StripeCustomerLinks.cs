using Azure;
using Azure.Data.Tables;

namespace Gateway.Billing;

/// <summary>A gateway customer billed as a Stripe customer.</summary>
public sealed record StripeCustomerLink(string CustomerId, string StripeCustomerId);

/// <summary>
/// The gateway-customer ↔ Stripe-customer link, in billing's own table (the Customer model stays billing-free).
/// One row per gateway customer; linking again replaces the Stripe id.
/// </summary>
public sealed class StripeCustomerLinks(BillingTables tables)
{
    private const string RowKey = "stripe";

    public async Task LinkAsync(string customerId, string stripeCustomerId, CancellationToken cancellationToken) =>
        await tables.CustomerLinks.UpsertEntityAsync(
            new TableEntity(customerId, RowKey) { ["StripeCustomerId"] = stripeCustomerId },
            TableUpdateMode.Replace,
            cancellationToken);

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
