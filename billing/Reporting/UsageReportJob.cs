using System.Globalization;
using Gateway.Core.Customers;
using Gateway.Core.Usage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Billing.Reporting;

/// <summary>A meter event of a run: sent (or, in a dry run, that would have been sent) and how it went.</summary>
public sealed record ReportedHour(string CustomerId, DateTimeOffset Hour, string Identifier, long Value, long ReportedTotal, DeliveryOutcome? Outcome, string? Error);

/// <summary>What one run did: events per customer and hour, customers without a Stripe link, hours another run held.</summary>
public sealed record UsageReportRun(
    bool DryRun,
    DateTimeOffset From,
    DateTimeOffset Through,
    IReadOnlyList<ReportedHour> Events,
    IReadOnlyList<string> UnlinkedCustomers,
    int HoursLeftToAnotherRun)
{
    public long ValueDelivered => Events.Where(e => e.Outcome is DeliveryOutcome.Accepted or DeliveryOutcome.AlreadyAccepted).Sum(e => e.Value);

    public int Failed => Events.Count(e => e.Outcome is DeliveryOutcome.Failed);

    public int Refused => Events.Count(e => e.Outcome is DeliveryOutcome.Refused);
}

/// <summary>
/// Reports billable usage to Stripe: per customer and UTC hour, the ledger's billable count minus what the hour's
/// watermark says was reported goes out as one meter event. Protocol per hour (write-ahead, so a crash anywhere
/// neither loses nor doubles usage):
/// <list type="number">
/// <item>a pending event (from a run that did not finish) is sent again as it was: same identifier, same value;</item>
/// <item>if the ledger holds more, event number n+1 is written down as pending (ETag-conditional), then sent;</item>
/// <item>once Stripe accepts it, or answers that it has the identifier, the watermark moves and pending clears.</item>
/// </list>
/// An event that keeps failing stays pending for the next run; nothing is ever dropped. The identifier is
/// <c>gw-{customerId}-{yyyyMMddHH}-{n}</c>; its timestamp is the hour's start.
/// Only what the ledger holds is reported (never a process's unflushed counts), so every billed call is on record.
/// </summary>
public sealed partial class UsageReportJob(
    BillableLedger billableLedger,
    StripeCustomerLinks links,
    ICustomerStore customers,
    UsageWatermarks watermarks,
    IServiceProvider services,
    IOptions<StripeOptions> stripe,
    IOptions<BillingOptions> options,
    TimeProvider time,
    ILogger<UsageReportJob> logger)
{
    public static string Identifier(string customerId, int hour, int sequence) =>
        string.Create(CultureInfo.InvariantCulture, $"gw-{customerId}-{UsageCalendar.HourText(hour)}-{sequence}");

    /// <summary>
    /// Reports every hour of the lookback through the current moment (the open hour included: later calls follow as a
    /// further event); of one customer only when <paramref name="customerId"/> is given (before an invoice is finalised).
    /// </summary>
    public async Task<UsageReportRun> RunAsync(CancellationToken cancellationToken, string? customerId = null)
    {
        var now = time.GetUtcNow();
        var fromHour = UsageCalendar.HourOf(now - options.Value.Lookback);
        var toHour = UsageCalendar.HourOf(now) + 1;
        var dryRun = !stripe.Value.Enabled;
        // The Stripe client exists only when a secret key is configured: resolved here, never in a dry run.
        var sender = dryRun ? null : services.GetRequiredService<MeterEventSender>();
        var events = new List<ReportedHour>();
        var unlinked = new List<string>();
        var heldElsewhere = 0;

        var linked = customerId is null
            ? (await links.ListAsync(cancellationToken)).ToDictionary(l => l.CustomerId, StringComparer.Ordinal)
            : (await links.FindAsync(customerId, cancellationToken) is { } link ? new Dictionary<string, StripeCustomerLink> { [customerId] = link } : []);
        foreach (var linkedId in linked.Keys.Order(StringComparer.Ordinal))
        {
            var stripeCustomer = linked[linkedId].StripeCustomerId;
            var ledger = await BillableHoursAsync(linkedId, fromHour, toHour, cancellationToken);
            var marks = await watermarks.ReadAsync(linkedId, fromHour, toHour, cancellationToken);
            foreach (var hour in ledger.Keys.Union(marks.Keys).Order())
            {
                var mark = marks.GetValueOrDefault(hour) ?? HourWatermark.None(hour);
                var billable = ledger.GetValueOrDefault(hour);
                if (dryRun)
                {
                    if (billable > mark.Reported)
                    {
                        events.Add(new ReportedHour(linkedId, UsageCalendar.HourStart(hour), Identifier(linkedId, hour, mark.Sequence + 1), billable - mark.Reported, billable, null, null));
                    }

                    continue;
                }

                var (held, sent) = await ReportHourAsync(sender!, linkedId, stripeCustomer, mark, billable, now, cancellationToken);
                heldElsewhere += held ? 1 : 0;
                events.AddRange(sent);
            }
        }

        // Usage of customers without a Stripe link stays in the ledger, unreported, until they are linked.
        if (customerId is null)
        {
            unlinked.AddRange(await UnlinkedWithUsageAsync(linked, fromHour, toHour, cancellationToken));
        }
        var run = new UsageReportRun(dryRun, UsageCalendar.HourStart(fromHour), now, events, unlinked, heldElsewhere);
        LogRun(run.DryRun, run.Events.Count, run.ValueDelivered, run.Failed, run.Refused);
        return run;
    }

    private async Task<(bool HeldElsewhere, List<ReportedHour> Sent)> ReportHourAsync(
        MeterEventSender sender, string customerId, string stripeCustomer, HourWatermark mark, long billable, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var sent = new List<ReportedHour>();
        if (billable < mark.Reported)
        {
            // The ledger is cumulative per writer and never shrinks; a smaller count means rows were lost or edited.
            LogLedgerBehindWatermark(customerId, UsageCalendar.HourText(mark.Hour), billable, mark.Reported);
        }

        while (true)
        {
            if (mark.Pending is null)
            {
                if (billable <= mark.Reported)
                {
                    return (false, sent);
                }

                var written = await watermarks.TryWriteAsync(customerId, mark, mark with { Pending = new PendingMeterEvent(mark.Sequence + 1, billable, now) }, cancellationToken);
                if (written is null)
                {
                    return (true, sent);
                }

                mark = written;
            }

            var pending = mark.Pending!;
            var identifier = Identifier(customerId, mark.Hour, pending.Sequence);
            var value = pending.ReportedTo - mark.Reported;
            var delivery = now - pending.Since >= MeterEventSender.ConfirmBeforeResendAfter
                ? await DeliverStaleAsync(sender, new MeterEventToSend(identifier, stripeCustomer, UsageCalendar.HourStart(mark.Hour), value), mark, cancellationToken)
                : await sender.SendAsync(new MeterEventToSend(identifier, stripeCustomer, UsageCalendar.HourStart(mark.Hour), value), cancellationToken);
            sent.Add(new ReportedHour(customerId, UsageCalendar.HourStart(mark.Hour), identifier, value, pending.ReportedTo, delivery.Outcome, delivery.Error));
            if (!delivery.Delivered)
            {
                if (delivery.Outcome is DeliveryOutcome.Refused)
                {
                    LogRefused(identifier, delivery.Error);
                }

                return (false, sent);
            }

            var committed = await watermarks.TryWriteAsync(customerId, mark, mark with { Reported = pending.ReportedTo, Sequence = pending.Sequence, Pending = null }, cancellationToken);
            if (committed is null)
            {
                return (true, sent);
            }

            mark = committed;
        }
    }

    /// <summary>
    /// A pending event written down long ago (<see cref="MeterEventSender.ConfirmBeforeResendAfter"/>): past Stripe's
    /// identifier window a resend is no longer refused as a duplicate, so whether the earlier attempt landed is read
    /// from the hour's meter summary first. All of it there (the hour holds
    /// the pending total): delivered, nothing is sent. Nothing of it there (the hour holds what the watermark reported):
    /// sent again. Anything else, or no answer, is left pending and answered as refused or failed: never a second copy.
    /// </summary>
    private static async Task<Delivery> DeliverStaleAsync(MeterEventSender sender, MeterEventToSend meterEvent, HourWatermark mark, CancellationToken cancellationToken)
    {
        var hour = UsageCalendar.HourStart(mark.Hour);
        var onStripe = await sender.AcceptedPerHourAsync(meterEvent.StripeCustomerId, hour, hour.AddHours(1), cancellationToken);
        if (onStripe is null)
        {
            return new Delivery(DeliveryOutcome.Failed, "Stripe's meter summary for the hour could not be read; the event stays pending.");
        }

        var held = onStripe.GetValueOrDefault(mark.Hour);
        return held >= mark.Pending!.ReportedTo ? new Delivery(DeliveryOutcome.AlreadyAccepted)
            : held == mark.Reported ? await sender.SendAsync(meterEvent, cancellationToken)
            : new Delivery(DeliveryOutcome.Refused, string.Create(CultureInfo.InvariantCulture, $"Stripe's meter holds {held} calls for the hour, neither the {mark.Reported} reported nor the {mark.Pending.ReportedTo} pending: reconcile by hand."));
    }

    /// <summary>Billable calls per hour in [fromHour, toHour): summed over keys, route groups and writers.</summary>
    private Task<Dictionary<int, long>> BillableHoursAsync(string customerId, int fromHour, int toHour, CancellationToken cancellationToken) =>
        billableLedger.HoursAsync(customerId, fromHour, toHour, cancellationToken);

    private async Task<List<string>> UnlinkedWithUsageAsync(Dictionary<string, StripeCustomerLink> linked, int fromHour, int toHour, CancellationToken cancellationToken)
    {
        var unlinked = new List<string>();
        foreach (var customer in await customers.ListAsync(cancellationToken))
        {
            if (!linked.ContainsKey(customer.Id) && (await BillableHoursAsync(customer.Id, fromHour, toHour, cancellationToken)).Count > 0)
            {
                unlinked.Add(customer.Id);
            }
        }

        return unlinked;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Usage report (dry run: {DryRun}): {Events} meter events, {Delivered} calls delivered, {Failed} failed (retried next run), {Refused} refused.")]
    private partial void LogRun(bool dryRun, int events, long delivered, int failed, int refused);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Customer {CustomerId}, hour {Hour}: the ledger holds {Billable} billable calls, fewer than the {Reported} already reported.")]
    private partial void LogLedgerBehindWatermark(string customerId, string hour, long billable, long reported);

    [LoggerMessage(Level = LogLevel.Error, Message = "Stripe refused meter event {Identifier} for good ({Error}); it stays pending for reconciliation.")]
    private partial void LogRefused(string identifier, string? error);
}
