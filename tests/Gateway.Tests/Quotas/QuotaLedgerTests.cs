using Gateway.Core.Plans;
using Gateway.Proxy.Quotas;

namespace Gateway.Tests.Quotas;

/// <summary>Refunds: an admitted call that turned out not to be billable gives its place in the quota back.</summary>
public sealed class QuotaLedgerTests
{
    private const int November = (2026 * 12) + 10;

    [Fact]
    public void Release_OnABlockingPlan_FreesAPlaceForTheNextCall()
    {
        var ledger = new QuotaLedger();
        var period = ledger.Period("c1", "k1", November);
        var plan = Plan(quota: 2, OverQuotaBehaviour.Block);
        period.TryAdmit(plan);
        period.TryAdmit(plan);

        var full = period.TryAdmit(plan);
        ledger.Release(period);
        var afterRefund = period.TryAdmit(plan);

        Assert.Equal(QuotaDecision.Exhausted, full);
        Assert.Equal(QuotaDecision.Included, afterRefund);
        Assert.Equal(2, period.Local);
    }

    [Fact]
    public void Release_OnABillingPlan_TakesTheCallOutOfOverage()
    {
        var ledger = new QuotaLedger();
        var period = ledger.Period("c1", "k1", November);
        var plan = Plan(quota: 1, OverQuotaBehaviour.Bill);
        period.TryAdmit(plan);
        var over = period.TryAdmit(plan);

        ledger.Release(period);

        Assert.Equal(QuotaDecision.Overage, over);
        Assert.Equal(1, period.Used);
        Assert.Equal(0, Math.Max(0, period.Used - plan.MonthlyQuota));
    }

    [Fact]
    public void Release_AfterTheFlushDroppedThePeriod_PutsItBackUntilTheCorrectedCountIsWritten()
    {
        var ledger = new QuotaLedger();
        var period = ledger.Period("c1", "k1", November);
        period.TryAdmit(Plan(quota: 5, OverQuotaBehaviour.Block));
        period.Calls.MarkFlushed(1, flushStarted: 0);

        ledger.Forget(period);
        var droppedWhileFlushed = !ledger.Periods.Contains(period);
        ledger.Release(period);

        Assert.True(droppedWhileFlushed);
        Assert.Same(period, Assert.Single(ledger.Periods));
        Assert.Equal((0, 1), (period.Local, period.Flushed));

        // The next flush writes the lower count; then the period can go for good.
        period.Calls.MarkFlushed(0, flushStarted: 0);
        ledger.Forget(period);
        Assert.Empty(ledger.Periods);
    }

    [Fact]
    public void Forget_WithAGiveBackNotYetWritten_KeepsThePeriod()
    {
        var ledger = new QuotaLedger();
        var period = ledger.Period("c1", "k1", November);
        period.TryAdmit(Plan(quota: 5, OverQuotaBehaviour.Block));
        period.Calls.MarkFlushed(1, flushStarted: 0);
        ledger.Release(period);

        ledger.Forget(period);

        Assert.Same(period, Assert.Single(ledger.Periods));
    }

    /// <summary>The flush dropping a written past month races with a refund for it: the refund must never be lost.</summary>
    [Fact]
    public async Task Release_RacingForget_NeverLeavesAnUnwrittenCountOutsideTheLedger()
    {
        const int Rounds = 3_000;
        var plan = Plan(quota: 5, OverQuotaBehaviour.Block);
        var ledgers = new QuotaLedger[Rounds];
        var periods = new QuotaPeriod[Rounds];
        for (var i = 0; i < Rounds; i++)
        {
            ledgers[i] = new QuotaLedger();
            periods[i] = ledgers[i].Period("c1", "k1", November);
            periods[i].TryAdmit(plan);
            periods[i].Calls.MarkFlushed(1, flushStarted: 0);
        }

        using var start = new Barrier(2);
        var flush = Task.Run(() =>
        {
            for (var i = 0; i < Rounds; i++)
            {
                start.SignalAndWait();
                if (periods[i].Flushed == periods[i].Local)
                {
                    ledgers[i].Forget(periods[i]);
                }
            }
        });
        var refund = Task.Run(() =>
        {
            for (var i = 0; i < Rounds; i++)
            {
                start.SignalAndWait();
                ledgers[i].Release(periods[i]);
            }
        });
        await Task.WhenAll(flush, refund);

        var lost = Enumerable.Range(0, Rounds).Count(i => !ledgers[i].Periods.Contains(periods[i]));
        Assert.Equal(0, lost);
        Assert.All(periods, p => Assert.Equal(0, p.Local));
    }

    [Fact]
    public void TryAdmit_OnABlockingPlan_CountsWhatOtherWritersStored_AndAdmitsOnlyTheRest()
    {
        var period = new QuotaLedger().Period("c1", "k1", November);
        var plan = Plan(quota: 5, OverQuotaBehaviour.Block);
        period.SetBaseline(3);

        var decisions = Enumerable.Range(0, 3).Select(_ => period.TryAdmit(plan)).ToList();

        Assert.Equal([QuotaDecision.Included, QuotaDecision.Included, QuotaDecision.Exhausted], decisions);
        Assert.Equal((3, 2, 5), (period.Baseline, period.Local, period.Used));
    }

    [Fact]
    public void TryAdmit_OnABillingPlan_BillsAsOverageExactlyTheCallsPastTheQuota_CountingOtherWriters()
    {
        var period = new QuotaLedger().Period("c1", "k1", November);
        var plan = Plan(quota: 4, OverQuotaBehaviour.Bill);
        period.SetBaseline(2);

        var decisions = Enumerable.Range(0, 4).Select(_ => period.TryAdmit(plan)).ToList();

        Assert.Equal([QuotaDecision.Included, QuotaDecision.Included, QuotaDecision.Overage, QuotaDecision.Overage], decisions);
        Assert.Equal((4, 6), (period.Local, period.Used));
    }

    [Fact]
    public void Period_OfTheSameKeyAndMonth_IsOneCount_AndAnotherMonthStartsAtZero()
    {
        var ledger = new QuotaLedger();
        var plan = Plan(quota: 5, OverQuotaBehaviour.Block);
        ledger.Period("c1", "k1", November).TryAdmit(plan);
        ledger.Period("c1", "k1", November).TryAdmit(plan);

        var december = ledger.Period("c1", "k1", November + 1);

        Assert.Same(ledger.Period("c1", "k1", November), ledger.Period("c1", "k1", November));
        Assert.Equal(2, ledger.Period("c1", "k1", November).Local);
        Assert.Equal(0, december.Local);
        Assert.Equal(("c1", "k1", November + 1), (december.CustomerId, december.KeyId, december.Month));
        Assert.Equal(2, ledger.Periods.Count());
    }

    private static Plan Plan(long quota, OverQuotaBehaviour overQuota) =>
        new("p", new PlanOptions { RequestsPerSecond = 1000, Burst = 1000, MonthlyQuota = quota, OverQuota = overQuota.ToString(), RouteGroups = ["alpha"] });
}
