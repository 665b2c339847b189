using Gateway.Billing.Reporting;
using Gateway.Core.Customers;
using Gateway.Core.Usage;
using Gateway.StripeTestServer.Http;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Billing;

/// <summary>The usage-reporting job against real Azurite and the Stripe test server (Stripe.net as the client).</summary>
[Collection(UsesAzurite.Name)]
public sealed class UsageReportJobTests(Azurite azurite)
{
    private static readonly int Hour0 = UsageCalendar.HourOf(BillingHarness.Start);

    [Fact]
    public async Task Run_WithoutSecretKey_IsADryRun_ListsWhatItWouldSend_AndSendsNothing()
    {
        await using var billing = await BillingHarness.StartAsync(azurite, withSecretKey: false);
        var customer = CustomerIds.New();
        await billing.AddLinkedCustomerAsync(customer);
        await billing.WriteUsageAsync(customer, Hour0, CallOutcome.Status2xx, 7);
        billing.Time.Advance(TimeSpan.FromHours(2));

        var first = await billing.Job.RunAsync(CancellationToken.None);
        var second = await billing.Job.RunAsync(CancellationToken.None);

        Assert.True(first.DryRun);
        var planned = Assert.Single(first.Events);
        Assert.Equal((7L, UsageReportJob.Identifier(customer, Hour0, 1), (DeliveryOutcome?)null), (planned.Value, planned.Identifier, planned.Outcome));
        Assert.Equal(first.Events, second.Events);
        Assert.Empty(billing.Server.State.MeterEvents);
    }

    [Fact]
    public async Task Run_SendsOneEventPerCustomerAndHour_OfBillableCallsOnly_WithADeterministicIdentifierAndATimestampInTheHour()
    {
        await using var billing = await BillingHarness.StartAsync(azurite);
        var customer = CustomerIds.New();
        var stripeCustomer = await billing.AddLinkedCustomerAsync(customer);
        await billing.WriteUsageAsync(customer, Hour0, CallOutcome.Status2xx, 10, writer: "w1");
        await billing.WriteUsageAsync(customer, Hour0, CallOutcome.Status2xx, 5, writer: "w2");
        await billing.WriteUsageAsync(customer, Hour0, CallOutcome.Status3xx, 2);
        await billing.WriteUsageAsync(customer, Hour0, CallOutcome.Status4xx, 3);
        await billing.WriteUsageAsync(customer, Hour0, CallOutcome.Status5xx, 100);
        await billing.WriteUsageAsync(customer, Hour0, CallOutcome.RejectedRateLimited, 100);
        await billing.WriteUsageAsync(customer, Hour0, CallOutcome.GatewayError, 100);
        await billing.WriteUsageAsync(customer, Hour0 + 1, CallOutcome.Status2xx, 4, keyId: "key2");
        billing.Time.Advance(TimeSpan.FromHours(3));

        var run = await billing.Job.RunAsync(CancellationToken.None);

        Assert.False(run.DryRun);
        var events = billing.Server.State.MeterEvents;
        Assert.Equal(
            [(UsageReportJob.Identifier(customer, Hour0, 1), "20", UsageCalendar.HourStart(Hour0)), (UsageReportJob.Identifier(customer, Hour0 + 1, 1), "4", UsageCalendar.HourStart(Hour0 + 1))],
            events.Select(e => (e.Identifier, e.Payload["value"], e.Timestamp)));
        Assert.All(events, e => Assert.Equal((stripeCustomer, "api_calls"), (e.Payload["stripe_customer_id"], e.EventName)));
        Assert.Equal(24, run.ValueDelivered);
    }

    [Fact]
    public async Task Run_Again_AlsoAfterStripesDuplicateWindow_SendsNothingTwice()
    {
        await using var billing = await BillingHarness.StartAsync(azurite);
        var customer = CustomerIds.New();
        await billing.AddLinkedCustomerAsync(customer);
        await billing.WriteUsageAsync(customer, Hour0, CallOutcome.Status2xx, 10);
        billing.Time.Advance(TimeSpan.FromHours(1));
        await billing.Job.RunAsync(CancellationToken.None);

        var soon = await billing.Job.RunAsync(CancellationToken.None);
        billing.Time.Advance(TimeSpan.FromHours(25));
        var afterWindow = await billing.Job.RunAsync(CancellationToken.None);

        Assert.Empty(soon.Events);
        Assert.Empty(afterWindow.Events);
        Assert.Single(billing.Server.State.MeterEvents);
    }

    [Fact]
    public async Task Run_AfterLateUsageForAReportedHour_SendsTheDifference_WithTheNextIdentifier()
    {
        await using var billing = await BillingHarness.StartAsync(azurite);
        var customer = CustomerIds.New();
        var stripeCustomer = await billing.AddLinkedCustomerAsync(customer);
        await billing.WriteUsageAsync(customer, Hour0, CallOutcome.Status2xx, 10);
        billing.Time.Advance(TimeSpan.FromMinutes(30));
        await billing.Job.RunAsync(CancellationToken.None);
        await billing.WriteUsageAsync(customer, Hour0, CallOutcome.Status2xx, 16);
        billing.Time.Advance(TimeSpan.FromHours(30));

        var late = await billing.Job.RunAsync(CancellationToken.None);

        var sent = Assert.Single(late.Events);
        Assert.Equal((UsageReportJob.Identifier(customer, Hour0, 2), 6L, 16L), (sent.Identifier, sent.Value, sent.ReportedTotal));
        Assert.Equal(new Dictionary<int, long> { [Hour0] = 16 }, await billing.StripeHoursAsync(stripeCustomer, Hour0, Hour0 + 24));
    }

    [Fact]
    public async Task Run_WhenStripeKeepsFailing_KeepsTheEventPending_AndTheNextRunSendsTheSameEvent()
    {
        await using var billing = await BillingHarness.StartAsync(azurite, settings: new Dictionary<string, string?> { ["Gateway:Billing:MaxRetryAttempts"] = "2" });
        var customer = CustomerIds.New();
        await billing.AddLinkedCustomerAsync(customer);
        await billing.WriteUsageAsync(customer, Hour0, CallOutcome.Status2xx, 10);
        billing.Time.Advance(TimeSpan.FromHours(1));
        billing.Server.Faults.Enqueue(new StripeFault(StripeFaultKind.ServerError, "/v1/billing/meter_events"), 3);

        var failed = await billing.Job.RunAsync(CancellationToken.None);
        await billing.WriteUsageAsync(customer, Hour0, CallOutcome.Status2xx, 12);
        var next = await billing.Job.RunAsync(CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Failed, Assert.Single(failed.Events).Outcome);
        Assert.Equal(
            [(UsageReportJob.Identifier(customer, Hour0, 1), 10L, DeliveryOutcome.Accepted), (UsageReportJob.Identifier(customer, Hour0, 2), 2L, DeliveryOutcome.Accepted)],
            next.Events.Select(e => (e.Identifier, e.Value, e.Outcome!.Value)));
        Assert.Equal(12, billing.Server.State.MeterEvents.Sum(e => long.Parse(e.Payload["value"], System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public async Task Run_AfterACommittedThenDroppedAnswer_CountsStripesDuplicateAnswerAsDelivered()
    {
        await using var billing = await BillingHarness.StartAsync(azurite);
        var customer = CustomerIds.New();
        await billing.AddLinkedCustomerAsync(customer);
        await billing.WriteUsageAsync(customer, Hour0, CallOutcome.Status2xx, 10);
        billing.Time.Advance(TimeSpan.FromHours(1));
        billing.Server.Faults.Enqueue(new StripeFault(StripeFaultKind.CommittedThenDropped, "/v1/billing/meter_events"));

        var run = await billing.Job.RunAsync(CancellationToken.None);
        var again = await billing.Job.RunAsync(CancellationToken.None);

        Assert.Equal(DeliveryOutcome.AlreadyAccepted, Assert.Single(run.Events).Outcome);
        Assert.Empty(again.Events);
        Assert.Single(billing.Server.State.MeterEvents);
    }

    [Fact]
    public async Task Run_PendingEventThatLanded_PastStripesDuplicateWindow_IsConfirmedFromTheMeter_NotSentAgain()
    {
        // Stripe takes the event but the answer is lost, and the retries fail: the event stays pending, its fate unknown.
        var (billing, _, _) = await PendingEventAsync(landed: true);
        await using var _ = billing;

        billing.Time.Advance(TimeSpan.FromHours(25)); // Stripe no longer refuses the identifier as a duplicate
        var late = await billing.Job.RunAsync(CancellationToken.None);
        var after = await billing.Job.RunAsync(CancellationToken.None);

        Assert.Equal(DeliveryOutcome.AlreadyAccepted, Assert.Single(late.Events).Outcome);
        Assert.Empty(after.Events);
        Assert.Equal(10, Assert.Single(billing.Server.State.MeterEvents).Payload["value"] is var v ? long.Parse(v, System.Globalization.CultureInfo.InvariantCulture) : 0);
    }

    [Fact]
    public async Task Run_PendingEventThatNeverLanded_PastStripesDuplicateWindow_IsSentOnce()
    {
        var (billing, customer, _) = await PendingEventAsync(landed: false);
        await using var _ = billing;

        billing.Time.Advance(TimeSpan.FromHours(25));
        var late = await billing.Job.RunAsync(CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Accepted, Assert.Single(late.Events).Outcome);
        Assert.Equal(UsageReportJob.Identifier(customer, Hour0, 1), Assert.Single(billing.Server.State.MeterEvents).Identifier);
    }

    [Fact]
    public async Task Run_PendingEventPastTheWindow_WhenTheMeterHoldsAnotherCount_StaysPendingAsRefused_AndSendsNothing()
    {
        var (billing, _, stripeCustomer) = await PendingEventAsync(landed: false);
        await using var _ = billing;
        await new Stripe.Billing.MeterEventService(StripeClients.For(billing.Server)).CreateAsync(new Stripe.Billing.MeterEventCreateOptions
        {
            EventName = "api_calls",
            Identifier = "sent-by-someone-else",
            Timestamp = UsageCalendar.HourStart(Hour0).UtcDateTime,
            Payload = new Dictionary<string, string> { ["stripe_customer_id"] = stripeCustomer, ["value"] = "4" },
        });

        billing.Time.Advance(TimeSpan.FromHours(25));
        var late = await billing.Job.RunAsync(CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Refused, Assert.Single(late.Events).Outcome);
        Assert.Contains("holds 4 calls", Assert.Single(late.Events).Error, StringComparison.Ordinal);
        Assert.Equal("sent-by-someone-else", Assert.Single(billing.Server.State.MeterEvents).Identifier);
    }

    /// <summary>
    /// A customer with 10 billable calls in <see cref="Hour0"/> whose meter event stays pending after a run: every
    /// attempt failed, and with <paramref name="landed"/> the first one reached Stripe but its answer was lost.
    /// </summary>
    private async Task<(BillingHarness Billing, string Customer, string StripeCustomer)> PendingEventAsync(bool landed)
    {
        var billing = await BillingHarness.StartAsync(azurite, settings: new Dictionary<string, string?> { ["Gateway:Billing:MaxRetryAttempts"] = "2" });
        var customer = CustomerIds.New();
        var stripeCustomer = await billing.AddLinkedCustomerAsync(customer);
        await billing.WriteUsageAsync(customer, Hour0, CallOutcome.Status2xx, 10);
        billing.Time.Advance(TimeSpan.FromHours(1));
        if (landed)
        {
            billing.Server.Faults.Enqueue(new StripeFault(StripeFaultKind.CommittedThenDropped, "/v1/billing/meter_events"));
        }

        billing.Server.Faults.Enqueue(new StripeFault(StripeFaultKind.ServerError, "/v1/billing/meter_events"), landed ? 2 : 3);
        Assert.Equal(DeliveryOutcome.Failed, Assert.Single((await billing.Job.RunAsync(CancellationToken.None)).Events).Outcome);
        return (billing, customer, stripeCustomer);
    }

    [Fact]
    public async Task Run_WithAMeterEventNameOver100Characters_FailsOptionsValidation_AndSendsNothing()
    {
        await using var billing = await BillingHarness.StartAsync(azurite, settings: new Dictionary<string, string?> { ["Gateway:Billing:MeterEventName"] = new string('m', 101) });
        var customer = CustomerIds.New();
        await billing.AddLinkedCustomerAsync(customer);
        await billing.WriteUsageAsync(customer, Hour0, CallOutcome.Status2xx, 10);
        billing.Time.Advance(TimeSpan.FromHours(1));

        var ex = await Record.ExceptionAsync(() => billing.Job.RunAsync(CancellationToken.None));

        Assert.IsType<Microsoft.Extensions.Options.OptionsValidationException>(ex);
        Assert.Empty(billing.Server.State.MeterEvents);
    }

    [Fact]
    public async Task Run_CustomerWithUsageButNoStripeLink_IsListedAsUnlinked_AndNothingIsSent()
    {
        await using var billing = await BillingHarness.StartAsync(azurite);
        var customer = CustomerIds.New();
        await billing.Services.GetRequiredService<ICustomerStore>().AddAsync(new Customer(customer, "n", "n@example.com", BillingHarness.Start), CancellationToken.None);
        await billing.WriteUsageAsync(customer, Hour0, CallOutcome.Status2xx, 10);
        billing.Time.Advance(TimeSpan.FromHours(1));

        var run = await billing.Job.RunAsync(CancellationToken.None);

        Assert.Equal([customer], run.UnlinkedCustomers);
        Assert.Empty(billing.Server.State.MeterEvents);
    }

    [Fact]
    public async Task ConcurrentRuns_OnTheSameHours_NeverHaveAnIdentifierAcceptedTwice_AndReportExactly()
    {
        await using var billing = await BillingHarness.StartAsync(azurite);
        var customers = new List<(string Id, string Stripe)>();
        for (var c = 0; c < 3; c++)
        {
            var id = CustomerIds.New();
            customers.Add((id, await billing.AddLinkedCustomerAsync(id)));
            for (var h = 0; h < 12; h++)
            {
                await billing.WriteUsageAsync(id, Hour0 + h, CallOutcome.Status2xx, 1 + h + c);
            }
        }

        billing.Time.Advance(TimeSpan.FromHours(12));

        var runs = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => billing.Job.RunAsync(CancellationToken.None))));
        var settle = await billing.Job.RunAsync(CancellationToken.None);

        var events = billing.Server.State.MeterEvents;
        Assert.All(events.GroupBy(e => e.Identifier), g => Assert.Single(g));
        foreach (var (id, stripe) in customers)
        {
            var expected = Enumerable.Range(0, 12).ToDictionary(h => Hour0 + h, h => (long)(1 + h + customers.FindIndex(c => c.Id == id)));
            Assert.Equal(expected, await billing.StripeHoursAsync(stripe, Hour0, Hour0 + 12));
        }

        Assert.Empty(settle.Events);
        Assert.Equal(36, runs.Sum(r => r.Events.Count(e => e.Outcome is DeliveryOutcome.Accepted)));
    }
}
