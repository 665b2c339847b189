using Azure;
using Azure.Data.Tables;

namespace Gateway.Billing.Webhooks;

/// <summary>What recording an event id found: a new event to handle, one already handled, one another delivery is handling.</summary>
public enum EventClaim
{
    New,
    AlreadyHandled,
    InProgress,
}

/// <summary>
/// Stripe event ids, recorded insert-only (<c>BillingWebhookEvents</c>, partition = event id). A delivery first
/// inserts the id as a claim; a 409 means another delivery recorded it: handled (answer 200), or being handled (409,
/// Stripe redelivers later). A claim not completed within <see cref="Lease"/> (the process died mid-way) is taken
/// over by the next delivery, ETag-conditional, so exactly one delivery holds it. A handler that fails releases its
/// claim (deleted, ETag-conditional), so Stripe's retry handles the event again.
/// </summary>
public sealed class StripeEventLog(BillingTables tables, TimeProvider time)
{
    /// <summary>How long a claim that was never completed blocks other deliveries of its event.</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);

    private const string Row = "event";

    public async Task<(EventClaim Claim, ETag ETag)> ClaimAsync(string eventId, string type, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var entity = new TableEntity(eventId, Row) { ["Type"] = type, ["ClaimedAt"] = now, ["Handled"] = false };
        try
        {
            var added = await tables.WebhookEvents.AddEntityAsync(entity, cancellationToken);
            return (EventClaim.New, added.Headers.ETag ?? ETag.All);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
        }

        var stored = await tables.WebhookEvents.GetEntityIfExistsAsync<TableEntity>(eventId, Row, cancellationToken: cancellationToken);
        if (!stored.HasValue)
        {
            // Released between our insert and this read: the releasing delivery failed; Stripe retries.
            return (EventClaim.InProgress, default);
        }

        var row = stored.Value!;
        if (row.GetBoolean("Handled") == true)
        {
            return (EventClaim.AlreadyHandled, row.ETag);
        }

        if (row.GetDateTimeOffset("ClaimedAt") is { } claimedAt && claimedAt + Lease > now)
        {
            return (EventClaim.InProgress, row.ETag);
        }

        try
        {
            row["ClaimedAt"] = now;
            var taken = await tables.WebhookEvents.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace, cancellationToken);
            return (EventClaim.New, taken.Headers.ETag ?? ETag.All);
        }
        catch (RequestFailedException e) when (StripeCustomerLinks.IsConflict(e) || e.Status == 404)
        {
            return (EventClaim.InProgress, row.ETag);
        }
    }

    /// <summary>Marks the claimed event handled: every later delivery of it is answered 200 without effect.</summary>
    public async Task CompleteAsync(string eventId, string type, ETag claim, CancellationToken cancellationToken) =>
        await tables.WebhookEvents.UpdateEntityAsync(
            new TableEntity(eventId, Row) { ["Type"] = type, ["Handled"] = true, ["HandledAt"] = time.GetUtcNow() },
            claim,
            TableUpdateMode.Replace,
            cancellationToken);

    /// <summary>Gives a claim up after its handler failed, so the next delivery handles the event.</summary>
    public async Task ReleaseAsync(string eventId, ETag claim)
    {
        try
        {
            await tables.WebhookEvents.DeleteEntityAsync(eventId, Row, claim, CancellationToken.None);
        }
        catch (RequestFailedException)
        {
            // Storage down or the claim already taken over: the lease ends it.
        }
    }
}
