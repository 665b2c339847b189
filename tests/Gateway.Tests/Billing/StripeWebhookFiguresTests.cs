using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;
using static Gateway.Tests.Billing.StripeWebhookEvents;

namespace Gateway.Tests.Billing;

/// <summary>
/// Issue #11 item 10, webhook half: 500 events (250 plan changes, 250 cancellations, one customer each) delivered
/// three times each in shuffled order, eight at a time, mixed with 200 forged, expired or malformed deliveries →
/// exactly 500 key changes audited by <c>stripe</c>, the 200 refused with 400, no 5xx. A 409 (another delivery of
/// the same event still in hand) is delivered again afterwards, as Stripe redelivers.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class StripeWebhookFiguresTests(Azurite azurite, ITestOutputHelper output) : GatewayTest(azurite)
{
    [Fact]
    public async Task FiveHundredEvents_DeliveredThreeTimesShuffled_WithTwoHundredBad_ApplyExactlyFiveHundredEffects()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2030, 6, 15, 12, 0, 0, TimeSpan.Zero));
        await using var gateway = await StartGatewayAsync(
            s => s["Gateway:Stripe:WebhookSecret"] = Secret,
            services: s => s.AddSingleton<TimeProvider>(time));
        var now = time.GetUtcNow();

        var customers = new ConcurrentBag<(int Index, string StripeCustomer)>();
        await Parallel.ForEachAsync(Enumerable.Range(0, 500), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, _) =>
        {
            var (_, stripeCustomer, _, _) = await LinkedCustomerWithKeyAsync(gateway);
            customers.Add((i, stripeCustomer));
        });

        var valid = customers.Select(c => c.Index < 250
            ? Subscription("customer.subscription.updated", c.StripeCustomer, now, "narrow")
            : Subscription("customer.subscription.deleted", c.StripeCustomer, now, "open", status: "canceled")).ToList();
        var random = new Random(11);
        var bad = Enumerable.Range(0, 200).Select(i =>
        {
            var body = Invoice("invoice.payment_failed", NewStripeCustomerId(), now);
            return (i % 3) switch
            {
                0 => (Body: body, Signature: Sign(body, now, "whsec_forged")),
                1 => (Body: body, Signature: Sign(body, now.AddMinutes(-10))),
                _ => (Body: "{\"id\":", Signature: Sign("{\"id\":", now)),
            };
        }).ToList();
        var deliveries = valid.SelectMany(b => Enumerable.Repeat((Body: b, Signature: Sign(b, now), Valid: true), 3))
            .Concat(bad.Select(b => (b.Body, b.Signature, Valid: false)))
            .OrderBy(_ => random.Next())
            .ToList();

        var statuses = new ConcurrentBag<(bool Valid, int Status)>();
        var redeliver = new ConcurrentBag<string>();
        var watch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(deliveries, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (d, _) =>
        {
            using var response = await DeliverAsync(gateway, d.Body, d.Signature);
            statuses.Add((d.Valid, (int)response.StatusCode));
            if (response.StatusCode == HttpStatusCode.Conflict)
            {
                redeliver.Add(d.Body);
            }
        });
        foreach (var body in redeliver)
        {
            using var response = await DeliverAsync(gateway, body, Sign(body, now));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        watch.Stop();
        var effects = await StripeWebhookTests.StripeAuditAsync(gateway);
        output.WriteLine($"{deliveries.Count} deliveries in {watch.Elapsed.TotalSeconds:F1} s; 409 redelivered: {redeliver.Count}; effects: {effects.Count}");

        Assert.DoesNotContain(statuses, s => s.Status >= 500);
        Assert.Equal(200, statuses.Count(s => !s.Valid && s.Status == 400));
        Assert.All(statuses.Where(s => s.Valid), s => Assert.True(s.Status is 200 or 409, $"{s.Status}"));
        Assert.Equal(500, effects.Count);
        Assert.Equal(250, effects.Count(e => e.Action == global::Gateway.ControlPlane.Audit.AuditActions.KeyPlanChanged));
        Assert.Equal(250, effects.Count(e => e.Action == global::Gateway.ControlPlane.Audit.AuditActions.KeyRevoked));
        Assert.Equal(500, effects.Select(e => e.Target).Distinct().Count());
    }
}
