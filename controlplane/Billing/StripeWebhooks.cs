using Gateway.Billing;
using Gateway.Billing.Reporting;
using Gateway.Billing.Webhooks;
using Gateway.Core.Plans;
using Gateway.Core.Problems;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Stripe;

namespace Gateway.ControlPlane.Billing;

/// <summary>What a webhook delivery did: <c>applied</c>, <c>stale</c> (older than the state stored), <c>duplicate</c>, <c>ignored</c> (a type not handled), <c>unlinked</c> (no gateway customer yet; the state is kept for when it is linked).</summary>
public sealed record StripeWebhookReceipt(string EventId, string Type, string Outcome, int KeyChanges);

/// <summary>
/// Handles one Stripe webhook delivery: verified (<see cref="StripeEventVerifier"/>), its id claimed insert-only
/// (<see cref="StripeEventLog"/>: a repeat is answered without effect), then applied independent of delivery order:
/// payment and subscription events change the customer's <see cref="BillingAccount"/> only when newer than what it
/// holds (<see cref="EventStamp"/>), and <see cref="BillingEnforcement"/> brings the keys in line with the account.
/// </summary>
public sealed partial class StripeWebhooks(
    StripeEventVerifier verifier,
    StripeEventLog events,
    BillingAccounts accounts,
    BillingEnforcement enforcement,
    StripeCustomerLinks links,
    UsageReportJob usage,
    BillingTables tables,
    PlanCatalog plans,
    IOptions<BillingOptions> options,
    TimeProvider time,
    ILogger<StripeWebhooks> logger)
{
    public const string InvoicePaymentFailed = "invoice.payment_failed";
    public const string InvoicePaid = "invoice.paid";
    public const string InvoiceUpcoming = "invoice.upcoming";
    public const string InvoiceFinalized = "invoice.finalized";
    public const string SubscriptionCreated = "customer.subscription.created";
    public const string SubscriptionUpdated = "customer.subscription.updated";
    public const string SubscriptionDeleted = "customer.subscription.deleted";

    public async Task<Outcome<StripeWebhookReceipt>> ReceiveAsync(string body, string? signature, CancellationToken cancellationToken)
    {
        var verified = verifier.Verify(body, signature);
        if (!verified.Succeeded)
        {
            return verified.Problem!;
        }

        var stripeEvent = verified.Value!;
        await tables.EnsureCreatedAsync(cancellationToken);
        var (claim, etag) = await events.ClaimAsync(stripeEvent.Id, stripeEvent.Type, cancellationToken);
        switch (claim)
        {
            case EventClaim.AlreadyHandled:
                return new StripeWebhookReceipt(stripeEvent.Id, stripeEvent.Type, "duplicate", 0);
            case EventClaim.InProgress:
                return new ApiProblem(ProblemTypes.WebhookInProgress, 409, $"Event '{stripeEvent.Id}' is being handled by another delivery.");
        }

        StripeWebhookReceipt receipt;
        try
        {
            receipt = await ApplyAsync(stripeEvent, cancellationToken);
        }
        catch
        {
            await events.ReleaseAsync(stripeEvent.Id, etag);
            throw;
        }

        await events.CompleteAsync(stripeEvent.Id, stripeEvent.Type, etag, cancellationToken);
        return receipt;
    }

    private async Task<StripeWebhookReceipt> ApplyAsync(Event stripeEvent, CancellationToken cancellationToken)
    {
        var stamp = new EventStamp(new DateTimeOffset(DateTime.SpecifyKind(stripeEvent.Created, DateTimeKind.Utc)).ToUnixTimeSeconds(), stripeEvent.Id);
        var now = time.GetUtcNow();
        var grace = options.Value.PaymentFailedGrace;
        Func<BillingAccount, BillingAccount?>? change = (stripeEvent.Type, stripeEvent.Data?.Object) switch
        {
            (InvoicePaymentFailed, Invoice) => a => stamp.IsNewerThan(a.Payment)
                ? a with { Payment = stamp, PaymentFailed = true, SuspendAt = a.PaymentFailed && a.SuspendAt is { } earlier ? earlier : now + grace }
                : null,
            (InvoicePaid, Invoice) => a => stamp.IsNewerThan(a.Payment) ? a with { Payment = stamp, PaymentFailed = false, SuspendAt = null } : null,
            (SubscriptionCreated or SubscriptionUpdated, Subscription s) => a => stamp.IsNewerThan(a.Subscription)
                ? a with { Subscription = stamp, Plan = PlanOf(s) ?? a.Plan, Cancelled = s.Status == "canceled" }
                : null,
            (SubscriptionDeleted, Subscription) => a => stamp.IsNewerThan(a.Subscription) ? a with { Subscription = stamp, Cancelled = true } : null,
            _ => null,
        };
        var stripeCustomer = stripeEvent.Data?.Object switch
        {
            Invoice invoice => invoice.CustomerId,
            Subscription subscription => subscription.CustomerId,
            _ => null,
        };

        if (stripeEvent.Type is InvoiceUpcoming or InvoiceFinalized && stripeCustomer is not null)
        {
            // Bill the open hour before the invoice closes: the same job as the timer, for this customer, through now.
            var customerId = await links.FindCustomerAsync(stripeCustomer, cancellationToken);
            if (customerId is null)
            {
                return Receipt(stripeEvent, "unlinked", 0);
            }

            var run = await usage.RunAsync(cancellationToken, customerId);
            return Receipt(stripeEvent, "applied", run.Events.Count);
        }

        if (change is null || stripeCustomer is null)
        {
            LogIgnored(logger, stripeEvent.Id, stripeEvent.Type);
            return Receipt(stripeEvent, "ignored", 0);
        }

        if (!await accounts.ChangeAsync(stripeCustomer, change, cancellationToken))
        {
            return Receipt(stripeEvent, "stale", 0);
        }

        var linked = await links.FindCustomerAsync(stripeCustomer, cancellationToken);
        return linked is null
            ? Receipt(stripeEvent, "unlinked", 0)
            : Receipt(stripeEvent, "applied", await enforcement.ConvergeAsync(linked, stripeCustomer, cancellationToken));
    }

    /// <summary>
    /// The gateway plan a subscription's price stands for: the price's metadata <c>plan</c>, else its lookup key
    /// up to the first '.' (<c>pro.monthly</c>, <c>pro.overage</c> → <c>pro</c>); only a plan of the catalog counts.
    /// </summary>
    public string? PlanOf(Subscription subscription)
    {
        foreach (var item in subscription.Items?.Data ?? [])
        {
            var candidates = new[] { item.Price?.Metadata?.GetValueOrDefault("plan"), item.Price?.LookupKey?.Split('.')[0] };
            foreach (var candidate in candidates)
            {
                if (plans.TryGet(candidate, out var plan))
                {
                    return plan.Name;
                }
            }
        }

        return null;
    }

    private StripeWebhookReceipt Receipt(Event stripeEvent, string outcome, int changes)
    {
        LogHandled(logger, stripeEvent.Id, stripeEvent.Type, outcome, changes);
        return new StripeWebhookReceipt(stripeEvent.Id, stripeEvent.Type, outcome, changes);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Stripe event {EventId} of type {Type}: not handled by this gateway; acknowledged.")]
    private static partial void LogIgnored(ILogger logger, string eventId, string type);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stripe event {EventId} ({Type}): {Outcome}, {Changes} change(s).")]
    private static partial void LogHandled(ILogger logger, string eventId, string type, string outcome, int changes);
}
