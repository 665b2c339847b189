using System.Diagnostics;
using System.Globalization;
using Azure.Data.Tables;
using Gateway.Core.Usage;
using Gateway.StripeTestServer.Http;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Gateway.Tests.Billing;

/// <summary>
/// Issue #11's reporting figures: customers × hours of usage reported while the clock moves, with late usage and
/// hundreds of injected faults of every kind; afterwards Stripe's meter holds exactly the ledger's billable calls,
/// per customer and hour, and no identifier was accepted twice. The CI size is 10 × 100 hours with ≥ 300 faults;
/// the full size (10 × 1,000 hours, ≥ 3,000 faults) runs with GATEWAY_BILLING_FIGURES=full.
/// </summary>
[Collection(UsesAzurite.Name)]
public sealed class UsageReportFiguresTests(Azurite azurite, ITestOutputHelper output)
{
    private static readonly CallOutcome[] Outcomes = [CallOutcome.Status2xx, CallOutcome.Status3xx, CallOutcome.Status4xx, CallOutcome.Status5xx, CallOutcome.RejectedQuotaExhausted];

    [Fact]
    public Task Report_10CustomersBy100Hours_With300Faults_StripeHoldsExactlyTheLedger() => RunAsync(customers: 10, hours: 100, faults: 300);

    [FullFiguresFact]
    public Task Report_10CustomersBy1000Hours_With3000Faults_StripeHoldsExactlyTheLedger() => RunAsync(customers: 10, hours: 1000, faults: 3000);

    private async Task RunAsync(int customers, int hours, int faults)
    {
        var watch = Stopwatch.StartNew();
        await using var billing = await BillingHarness.StartAsync(azurite, clientTimeout: TimeSpan.FromMilliseconds(500));
        var random = new Random(20301106);
        var ids = new List<(string Id, string Stripe)>();
        for (var c = 0; c < customers; c++)
        {
            var id = Gateway.Core.Customers.CustomerIds.New();
            ids.Add((id, await billing.AddLinkedCustomerAsync(id)));
        }

        // A twelfth of the faults are delays past the client's timeout (each costs real time); the rest split evenly.
        var delays = faults / 12;
        var eachOther = (faults - delays + 2) / 3;
        billing.Server.Faults.InjectRandomly(
            seed: 42,
            probability: 0.35,
            budget: Enum.GetValues<StripeFaultKind>().ToDictionary(k => k, k => k == StripeFaultKind.Delay ? delays : eachOther),
            pathPrefix: "/v1/billing/meter_events",
            delay: TimeSpan.FromMilliseconds(900),
            retryAfter: TimeSpan.Zero);

        // The ledger as the flushes leave it: cumulative counts per (customer, hour, outcome, writer).
        var ledger = new Dictionary<(string Customer, int Hour, CallOutcome Outcome, string Writer), long>();
        var hour0 = UsageCalendar.HourOf(BillingHarness.Start);
        var runs = 0;
        var lateWrites = 0;
        const int Step = 5;
        for (var written = 0; written < hours; written += Step)
        {
            var rows = new List<UsageCount>();
            foreach (var (id, _) in ids)
            {
                for (var h = written; h < Math.Min(written + Step, hours); h++)
                {
                    foreach (var outcome in Outcomes)
                    {
                        foreach (var writer in new[] { "w1", "w2" })
                        {
                            var key = (id, hour0 + h, outcome, writer);
                            ledger[key] = random.Next(0, 50);
                            rows.Add(new UsageCount(new UsageCell(id, "key1", "posts", hour0 + h, outcome), writer, ledger[key]));
                        }
                    }
                }

                // Late usage: a writer's flush for an hour already reported (within the lookback).
                if (written > 0 && random.NextDouble() < 0.6)
                {
                    var late = (id, hour0 + written - 1 - random.Next(0, Math.Min(written, 48)), CallOutcome.Status2xx, "w2");
                    ledger[late] += random.Next(1, 20);
                    rows.Add(new UsageCount(new UsageCell(id, "key1", "posts", late.Item2, late.Item3), late.Item4, ledger[late]));
                    lateWrites++;
                }
            }

            await WriteAsync(billing, rows);
            billing.Time.SetUtcNow(UsageCalendar.HourStart(hour0 + Math.Min(written + Step, hours)).AddMinutes(-20));
            await billing.Job.RunAsync(CancellationToken.None);
            runs++;
        }

        // The job keeps running after the last hour, as the timer does, until nothing is left to send.
        billing.Time.Advance(TimeSpan.FromHours(1));
        for (var quiet = false; !quiet && runs < 1000; runs++)
        {
            var run = await billing.Job.RunAsync(CancellationToken.None);
            quiet = run.Events.Count == 0;
        }

        var events = billing.Server.State.MeterEvents;
        var injected = billing.Server.Faults.Injected;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{customers} customers × {hours} hours: {runs} runs, {events.Count} meter events accepted ({lateWrites} late writes), faults injected {billing.Server.Faults.InjectedTotal} " +
            $"({string.Join(", ", injected.OrderBy(i => i.Key).Select(i => $"{i.Key} {i.Value}"))}), {watch.Elapsed.TotalSeconds:F0} s"));

        Assert.All(events.GroupBy(e => e.Identifier), g => Assert.Single(g));
        Assert.All(events, e => Assert.Contains($"-{UsageCalendar.HourText(UsageCalendar.HourOf(e.Timestamp))}-", e.Identifier, StringComparison.Ordinal));
        foreach (var (id, stripe) in ids)
        {
            var expected = ledger.Where(l => l.Key.Customer == id && Gateway.Core.Plans.BillableOutcomes.Default.Contains(l.Key.Outcome))
                .GroupBy(l => l.Key.Hour)
                .ToDictionary(g => g.Key, g => g.Sum(l => l.Value));
            var atStripe = await billing.StripeHoursAsync(stripe, hour0, hour0 + hours);
            Assert.Equal(expected.Where(e => e.Value > 0).OrderBy(e => e.Key), atStripe.OrderBy(e => e.Key));
        }

        Assert.True(billing.Server.Faults.InjectedTotal >= faults, $"only {billing.Server.Faults.InjectedTotal} faults were injected");
        Assert.All(Enum.GetValues<StripeFaultKind>(), kind => Assert.True(injected.GetValueOrDefault(kind) > 0, $"no {kind} fault was injected"));
    }

    private static async Task WriteAsync(BillingHarness billing, List<UsageCount> rows)
    {
        var usage = billing.Services.GetRequiredService<UsageTable>();
        foreach (var partition in rows.Select(UsageTable.HourRow).GroupBy(r => r.PartitionKey))
        {
            foreach (var batch in partition.DistinctBy(r => r.RowKey).Chunk(UsageTable.MaxBatchSize))
            {
                await usage.WriteBatchAsync(batch, CancellationToken.None);
            }
        }
    }
}

/// <summary>A fact that runs only when GATEWAY_BILLING_FIGURES=full (the full-size figures take minutes).</summary>
public sealed class FullFiguresFactAttribute : FactAttribute
{
    public FullFiguresFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("GATEWAY_BILLING_FIGURES") != "full")
        {
            Skip = "Full-size billing figures: set GATEWAY_BILLING_FIGURES=full (see billing/README.md).";
        }
    }
}
