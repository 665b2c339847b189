using Gateway.Core.Usage;

namespace Gateway.Proxy.Quotas;

/// <summary>
/// A key's quota baseline: the calls other writers (other instances, earlier runs of this one) stored against it
/// this month, read whenever the key is loaded or re-read, so quota decisions count every writer's calls.
/// </summary>
public sealed class QuotaBaselines(QuotaLedger ledger, UsageTable usage, IUnflushedUsage writer, TimeProvider time)
{
    /// <summary>Reads the baseline of the key's current month into its <see cref="QuotaPeriod"/>, and returns that period.</summary>
    public async Task<QuotaPeriod> LoadAsync(string customerId, string keyId, CancellationToken cancellationToken)
    {
        var month = UsageCalendar.MonthOf(time.GetUtcNow());
        var baseline = await usage.ReadMonthTotalAsync(customerId, keyId, month, writer.Writer, cancellationToken);
        var period = ledger.Period(customerId, keyId, month);
        period.SetBaseline(baseline);
        return period;
    }
}
