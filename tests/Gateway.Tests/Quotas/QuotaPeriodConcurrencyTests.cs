using Gateway.Core.Plans;
using Gateway.Proxy.Quotas;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Quotas;

/// <summary>
/// <see cref="QuotaPeriod.TryAdmit"/> straight from many threads at once. A check-then-increment admit lets more than
/// the quota through on every run: the threads hammer one small quota after another, so every quota is a race at its
/// last call, millions of times a run.
/// The HTTP-level test (PlanEnforcementTests) has too little contention to catch that.
/// </summary>
[Collection(Contention.Collection)]
public sealed class QuotaPeriodConcurrencyTests
{
    private const int Rounds = 3;
    private const int Quota = 3;

    [Fact]
    public void TryAdmit_OnABlockingPlan_UnderContention_AdmitsExactlyTheQuota()
    {
        AssertNeverMoreThanTheQuota(baseline: 0);
    }

    [Fact]
    public void TryAdmit_WithCallsStoredByOtherWriters_UnderContention_AdmitsOnlyWhatIsLeft()
    {
        AssertNeverMoreThanTheQuota(baseline: 2);
    }

    /// <summary>A spend cap turns a billing plan into a blocking one at its ceiling: the same atomic admit, never a call past it.</summary>
    [Fact]
    public void TryAdmit_OnABillingPlanUnderASpendCap_UnderContention_AdmitsExactlyTheCeiling()
    {
        AssertNeverMoreThanTheQuota(baseline: 1, Plan(1, OverQuotaBehaviour.Bill), spendCeiling: Quota);
    }

    [Fact]
    public void TryAdmit_OnABillingPlan_UnderContention_CountsEveryCall_AndIncludesExactlyTheQuota()
    {
        const int quota = 1_000;
        var plan = Plan(quota, OverQuotaBehaviour.Bill);
        QuotaPeriod period = null!;
        var included = new long[Contention.Threads];
        var wrong = new List<string>();

        Contention.Run(
            Rounds,
            prepare: _ =>
            {
                period = new QuotaPeriod("cus_1", "key_1", 202611);
                Array.Clear(included);
            },
            step: (_, thread) => () =>
            {
                if (period.TryAdmit(plan) == QuotaDecision.Included)
                {
                    included[thread]++;
                }
            },
            check: (round, steps) =>
            {
                if (period.Local != steps.Sum() || included.Sum() != quota)
                {
                    wrong.Add($"round {round}: {period.Local} of {steps.Sum()} calls counted, {included.Sum()} included");
                }
            });

        Assert.True(wrong.Count == 0, $"Quota {quota}; {string.Join("; ", wrong)}");
    }

    private static void AssertNeverMoreThanTheQuota(long baseline, Plan? capped = null, long spendCeiling = long.MaxValue)
    {
        var plan = capped ?? Plan(Quota, OverQuotaBehaviour.Block);
        QuotaPeriod current = null!;
        var admitted = new long[Contention.Threads];
        long exhausted = 0, countedInExhausted = 0, overrun = 0;
        var wrong = new List<string>();

        QuotaPeriod Fresh()
        {
            var period = new QuotaPeriod("cus_1", "key_1", 202611);
            period.SetBaseline(baseline);
            return period;
        }

        Contention.Run(
            Rounds,
            prepare: _ =>
            {
                current = Fresh();
                Array.Clear(admitted);
                exhausted = countedInExhausted = overrun = 0;
            },
            // Every thread calls into the same quota; the first to find it exhausted puts a fresh one in its place.
            step: (_, thread) => () =>
            {
                var period = Volatile.Read(ref current);
                if (period.TryAdmit(plan, spendCeiling) is QuotaDecision.Included or QuotaDecision.Overage)
                {
                    admitted[thread]++;
                }
                else if (Interlocked.CompareExchange(ref current, Fresh(), period) == period)
                {
                    Interlocked.Increment(ref exhausted);
                    Interlocked.Add(ref countedInExhausted, period.Local);
                    if (period.Used > Quota)
                    {
                        Interlocked.Increment(ref overrun);
                    }
                }
            },
            check: (round, _) =>
            {
                var extra = admitted.Sum() - (countedInExhausted + current.Local);
                if (overrun > 0 || extra != 0 || exhausted == 0 || current.Used > Quota)
                {
                    wrong.Add($"round {round}: {overrun} of {exhausted} quotas of {Quota} overrun, {extra} admissions not counted");
                }
            });

        Assert.True(wrong.Count == 0, $"Baseline {baseline}; {string.Join("; ", wrong)}");
    }

    private static Plan Plan(long quota, OverQuotaBehaviour overQuota) => new("tiny", new PlanOptions
    {
        RequestsPerSecond = 1_000_000,
        Burst = 1_000_000,
        MonthlyQuota = quota,
        OverQuota = overQuota.ToString(),
        RouteGroups = ["alpha"],
    });
}
