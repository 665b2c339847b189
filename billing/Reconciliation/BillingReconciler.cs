using Gateway.Billing.Invoices;
using Gateway.Billing.Reporting;
using Gateway.Core.Customers;
using Gateway.Core.Problems;
using Gateway.Core.Usage;
using Gateway.Core.Validation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Stripe;

namespace Gateway.Billing.Reconciliation;

/// <summary>Why an hour is listed: the ledger ahead of what was reported, an event still pending, or Stripe disagreeing with the watermark.</summary>
public static class ReconciliationKinds
{
    /// <summary>The ledger holds billable calls not reported yet (the open hour, or the job is behind): the next run sends them.</summary>
    public const string Unreported = "unreported";

    /// <summary>An event was written down and its delivery is not confirmed: the next run resends it as it was.</summary>
    public const string Pending = "pending";

    /// <summary>Stripe's meter holds a different count from what the watermark says was accepted: needs a person.</summary>
    public const string StripeDiffers = "stripe-differs";

    /// <summary>The watermark says more was reported than the ledger holds (usage rows lost or rewritten): needs a person.</summary>
    public const string LedgerBehind = "ledger-behind";
}

/// <summary>One UTC hour that does not reconcile: the ledger's billable calls, what the watermark says Stripe accepted, and what Stripe's meter holds (null in a dry run).</summary>
public sealed record ReconciledHour(DateTimeOffset Hour, string Kind, long Ledger, long Reported, long? Stripe, long? Pending);

/// <summary>
/// A customer's period compared three ways: the usage ledger's billable calls, what the durable watermarks say Stripe
/// accepted, and Stripe's own meter (event summaries by hour). <see cref="Differences"/> lists every hour where they
/// disagree, with why. <see cref="InvoicePreview"/> is the gateway's own preview; <see cref="StripeAmountDue"/> is
/// Stripe's invoice preview for the customer's subscription (null without one, or in a dry run).
/// </summary>
public sealed record Reconciliation(
    string CustomerId,
    string Period,
    bool DryRun,
    string? StripeCustomerId,
    long LedgerTotal,
    long ReportedTotal,
    long? StripeTotal,
    IReadOnlyList<ReconciledHour> Differences,
    InvoicePreview InvoicePreview,
    decimal? StripeAmountDue,
    IReadOnlyList<string> Notes);

/// <summary>
/// Builds <see cref="Reconciliation"/>s. Reads only: the ledger (never a process's unflushed counts, as the report job),
/// the watermarks, and Stripe (meter summaries, invoice preview). Safe to run at any time, also while the job runs:
/// an hour the job is sending shows as pending or unreported, never as a Stripe difference, unless Stripe really
/// holds a count the watermark does not (accepted events always move the watermark afterwards, so a Stripe count
/// above the watermark lasts only until that run finishes).
/// </summary>
public sealed class BillingReconciler(
    ICustomerStore customers,
    BillableLedger billableLedger,
    UsageWatermarks watermarks,
    StripeCustomerLinks links,
    InvoicePreviewer previews,
    IServiceProvider services,
    IOptions<StripeOptions> stripe,
    IOptions<BillingOptions> options,
    TimeProvider time)
{
    public async Task<Outcome<Reconciliation>> ReconcileAsync(string? customerId, string? period, CancellationToken cancellationToken)
    {
        if (InputRules.CustomerId("customerId", customerId) is { } invalid)
        {
            return invalid;
        }

        var parsed = BillingPeriod.Parse(period, time.GetUtcNow());
        if (!parsed.Succeeded)
        {
            return parsed.Problem!;
        }

        if (await customers.FindAsync(customerId!, cancellationToken) is null)
        {
            return ApiProblem.NotFound("Customer", customerId!);
        }

        var month = parsed.Value;
        var preview = await previews.PreviewAsync(customerId, month.ToString(), cancellationToken);
        var ledger = await billableLedger.HoursAsync(customerId!, month.FromHour, month.ToHour, cancellationToken);
        var marks = await watermarks.ReadAsync(customerId!, month.FromHour, month.ToHour, cancellationToken);
        var link = await links.FindAsync(customerId!, cancellationToken);
        var notes = new List<string>();
        Dictionary<int, long>? meter = null;
        decimal? amountDue = null;
        var dryRun = !stripe.Value.Enabled;
        if (dryRun)
        {
            notes.Add("Dry run: no Stripe key is configured, so nothing was sent and Stripe was not asked.");
        }
        else if (link is null)
        {
            notes.Add("The customer has no Stripe customer linked: its usage stays in the ledger until it is linked.");
        }
        else
        {
            var client = services.GetRequiredService<IStripeClient>();
            meter = await StripeHoursAsync(link.StripeCustomerId, month, notes, cancellationToken);
            amountDue = await StripeAmountDueAsync(client, link.StripeCustomerId, notes, cancellationToken);
        }

        var differences = new List<ReconciledHour>();
        foreach (var hour in ledger.Keys.Union(marks.Keys).Union(meter?.Keys ?? Enumerable.Empty<int>()).Order())
        {
            var billed = ledger.GetValueOrDefault(hour);
            var mark = marks.GetValueOrDefault(hour) ?? HourWatermark.None(hour);
            long? onStripe = meter is null ? null : meter.GetValueOrDefault(hour);
            var kind = onStripe is { } s && s != mark.Reported ? ReconciliationKinds.StripeDiffers
                : mark.Reported > billed ? ReconciliationKinds.LedgerBehind
                : mark.Pending is not null ? ReconciliationKinds.Pending
                : billed > mark.Reported && !dryRun ? ReconciliationKinds.Unreported
                : null;
            if (kind is not null)
            {
                differences.Add(new ReconciledHour(UsageCalendar.HourStart(hour), kind, billed, mark.Reported, onStripe, mark.Pending?.ReportedTo));
            }
        }

        return new Reconciliation(
            customerId!, month.ToString(), dryRun, link?.StripeCustomerId,
            ledger.Values.Sum(), marks.Values.Sum(m => m.Reported), meter?.Values.Sum(),
            differences, preview.Value!, amountDue, notes);
    }

    private async Task<Dictionary<int, long>?> StripeHoursAsync(string stripeCustomerId, BillingPeriod month, List<string> notes, CancellationToken cancellationToken)
    {
        var hours = await services.GetRequiredService<MeterEventSender>().AcceptedPerHourAsync(stripeCustomerId, month.Start, month.End, cancellationToken);
        if (hours is null)
        {
            notes.Add($"Stripe's meter with the event name '{options.Value.MeterEventName}' (Gateway:Billing:MeterEventName) could not be read: it does not exist, or Stripe did not answer.");
        }

        return hours;
    }

    private static async Task<decimal?> StripeAmountDueAsync(IStripeClient client, string stripeCustomerId, List<string> notes, CancellationToken cancellationToken)
    {
        try
        {
            var invoice = await new InvoiceService(client).CreatePreviewAsync(new InvoiceCreatePreviewOptions { Customer = stripeCustomerId }, cancellationToken: cancellationToken);
            return invoice.AmountDue / 100m;
        }
        catch (StripeException e) when (e.HttpStatusCode is System.Net.HttpStatusCode.BadRequest or System.Net.HttpStatusCode.NotFound)
        {
            notes.Add($"Stripe has no invoice preview for the customer ({e.StripeError?.Code ?? e.Message}): it has no subscription to invoice.");
            return null;
        }
    }
}
