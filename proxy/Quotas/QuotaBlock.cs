using Gateway.Core;
using Gateway.Core.Usage;
using Microsoft.Extensions.Options;

namespace Gateway.Proxy.Quotas;

/// <summary>
/// What every <see cref="QuotaBlock"/> of this instance shares: the leases table, this instance's writer id (the
/// same as its usage rows'), the settings and the clock. Registered only when quota leases are on.
/// </summary>
public sealed partial class QuotaLeasing(QuotaLeases leases, IUnflushedUsage writer, IOptions<GatewayOptions> options, TimeProvider time, ILogger<QuotaLeasing> logger)
{
    public QuotaLeases Leases { get; } = leases;
    public string Writer => writer.Writer;
    public TimeProvider Time { get; } = time;
    public int BlockSize { get; } = options.Value.Quotas.Leases.BlockSize;
    public TimeSpan LeaseTimeout { get; } = options.Value.Quotas.Leases.LeaseTimeout;

    /// <summary>
    /// How long a lease call may take (its ETag conflicts and retries included) before the requests waiting for it get
    /// 503 <c>storage-unavailable</c>: half the lease timeout, so a call that succeeds still leaves most of the lease.
    /// Not the key read's short <c>VerifyTimeout</c>: near the end of a quota every instance writes the one row, and a
    /// call given up after its write succeeded would leave its grant unused until this instance's next lease call.
    /// </summary>
    public TimeSpan CallTimeout { get; } = options.Value.Quotas.Leases.LeaseTimeout / 2;

    /// <summary>An instance admits from a block for 0.8 × <see cref="LeaseTimeout"/> after the lease call started: the rest is margin for clock skew.</summary>
    internal long ValidTicks => (long)(LeaseTimeout.TotalSeconds * 0.8 * Time.TimestampFrequency);

    /// <summary>After storage said nothing is left (or a lease call failed), refusals are answered from memory for this long.</summary>
    internal long RecheckTicks => Time.TimestampFrequency;

    internal void LeaseFailed(Exception e, string keyId) => LogLeaseFailed(logger, e, keyId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A quota lease for key {KeyId} failed; blocking calls beyond its block get 503 until it succeeds.")]
    private static partial void LogLeaseFailed(ILogger logger, Exception exception, string keyId);
}

/// <summary>
/// This instance's leased share of one key's monthly quota (blocking plans, with quota leases on). The period's own
/// count (<see cref="QuotaPeriod.Calls"/>, this writer's calls this month) may grow up to <see cref="Allocation"/>, the
/// calls the leases table allocated to this writer, and only while the lease is valid.
/// <para>
/// <b>Ordering rule.</b> Admission is one compare-and-swap on the count, bounded by the allocation (lock-free, no
/// storage), then a read of the lease's validity; ending a lease (<see cref="ReturnAsync"/>) first ends its validity
/// (a full fence), then reads the count it reports. So a call either shows in the reported count or sees the lease
/// ended and gives its place back: no call is admitted that the report leaves out. Only one lease call (lease, renewal or
/// return) runs per block at a time; it is the only writer of the allocation and the validity. A refund (a call that was not billable)
/// lowers the count, so its place goes back into this block, for this instance's next call; other instances see it
/// when this one reports (renewal or return). When the block runs low (half of the last grant left) the next lease is
/// taken in the background; a request waits only when the block is empty or its lease ran out.
/// </para>
/// </summary>
public sealed class QuotaBlock(QuotaPeriod period, QuotaLeasing leasing)
{
    private long _allocation;
    private long _validUntil;
    private long _lastGrant;
    private long _exhaustedUntil;
    private long _failedUntil;
    private long _quota;
    private int _active;
    private TaskCompletionSource? _leasing;

    /// <summary>The calls this writer may have admitted in total this month, as the last lease call left it.</summary>
    public long Allocation => Volatile.Read(ref _allocation);

    /// <summary>Places left in the block (ignoring the lease's validity).</summary>
    public long Available => Math.Max(0, Allocation - period.Local);

    /// <summary>True while the lease is valid by this instance's clock.</summary>
    public bool IsLeased => leasing.Time.GetTimestamp() < Volatile.Read(ref _validUntil);

    /// <summary>True from the first lease call until the lease is returned: the leases table has a live entry of this writer (or one that expired).</summary>
    internal bool HoldsLease => Volatile.Read(ref _validUntil) != 0;

    /// <summary>Less than half the lease's validity is left: the renewal pass renews a block in use.</summary>
    internal bool RenewalDue => Volatile.Read(ref _validUntil) - leasing.Time.GetTimestamp() < leasing.ValidTicks / 2;

    /// <summary>Admits one call from the block: <see cref="QuotaDecision.AwaitingLease"/> when the block is empty or its lease ran out (a lease call is then under way).</summary>
    public QuotaDecision TryAdmit(long quota)
    {
        var calls = period.Calls;
        var now = leasing.Time.GetTimestamp();
        while (true)
        {
            var local = calls.Count;
            var allocation = Volatile.Read(ref _allocation);
            if (local >= allocation)
            {
                return Empty(quota, now, expired: false);
            }

            if (!calls.TryIncrementFrom(local))
            {
                continue;
            }

            // Read after the count changed (the compare-and-swap is a full fence): see the ordering rule.
            if (now >= Volatile.Read(ref _validUntil))
            {
                calls.Add(-1);
                return Empty(quota, now, expired: true);
            }

            if (Volatile.Read(ref _active) == 0)
            {
                Volatile.Write(ref _active, 1);
            }

            if (allocation - local - 1 <= Volatile.Read(ref _lastGrant) / 2)
            {
                _ = Lease(quota);
            }

            return QuotaDecision.Included;
        }
    }

    /// <summary>Waits for lease calls until the call is admitted, refused (nothing left) or storage fails.</summary>
    public async Task<QuotaDecision> AdmitAsync(long quota, CancellationToken cancellationToken)
    {
        while (true)
        {
            await Lease(quota).WaitAsync(cancellationToken);
            var decision = TryAdmit(quota);
            if (decision != QuotaDecision.AwaitingLease)
            {
                return decision;
            }
        }
    }

    /// <summary>True once (then false until the next admitted call): whether a call was admitted since the last time this was asked.</summary>
    internal bool TakeActivity() => Interlocked.Exchange(ref _active, 0) != 0;

    /// <summary>Renews the lease (reports the count, no new calls): the renewal pass, for a block in use.</summary>
    internal Task RenewAsync(CancellationToken cancellationToken) =>
        ExclusiveAsync(() => CallAsync(Volatile.Read(ref _quota), want: 0, cancellationToken), cancellationToken);

    /// <summary>
    /// Ends the lease and gives back what the block did not use (graceful shutdown, or a block left idle): validity
    /// first, then the count is read and reported.
    /// </summary>
    internal Task ReturnAsync(CancellationToken cancellationToken) => ExclusiveAsync(
        async () =>
        {
            _ = Interlocked.Exchange(ref _validUntil, 0);
            var used = period.Local;
            await leasing.Leases.ReleaseAsync(period.CustomerId, period.KeyId, period.Month, leasing.Writer, used, cancellationToken);
            Volatile.Write(ref _allocation, used);
            Volatile.Write(ref _lastGrant, 0);
        },
        cancellationToken);

    /// <summary>Runs <paramref name="call"/> as the block's one lease call, after the one under way (if any).</summary>
    private async Task ExclusiveAsync(Func<Task> call, CancellationToken cancellationToken)
    {
        var mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        while (Interlocked.CompareExchange(ref _leasing, mine, null) is { } other)
        {
            await other.Task.WaitAsync(cancellationToken);
        }

        try
        {
            await call();
        }
        finally
        {
            Volatile.Write(ref _leasing, null);
            mine.SetResult();
        }
    }

    private QuotaDecision Empty(long quota, long now, bool expired)
    {
        if (!expired && now < Volatile.Read(ref _exhaustedUntil))
        {
            return QuotaDecision.Exhausted;
        }

        if (now < Volatile.Read(ref _failedUntil))
        {
            return QuotaDecision.Unavailable;
        }

        _ = Lease(quota);
        return QuotaDecision.AwaitingLease;
    }

    /// <summary>The lease call under way, or a new one: one at a time per block, started off the request's own path.</summary>
    private Task Lease(long quota)
    {
        var current = Volatile.Read(ref _leasing);
        if (current is not null)
        {
            return current.Task;
        }

        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        current = Interlocked.CompareExchange(ref _leasing, started, null);
        if (current is not null)
        {
            return current.Task;
        }

        _ = Task.Run(() => LeaseAsync(quota, started));
        return started.Task;
    }

    private async Task LeaseAsync(long quota, TaskCompletionSource done)
    {
        try
        {
            using var deadline = new CancellationTokenSource(leasing.CallTimeout, leasing.Time);
            await CallAsync(quota, leasing.BlockSize, deadline.Token);
        }
        catch (Exception e)
        {
            Volatile.Write(ref _failedUntil, leasing.Time.GetTimestamp() + leasing.RecheckTicks);
            leasing.LeaseFailed(e, period.KeyId);
        }
        finally
        {
            // Cleared before the waiters resume, so one that finds the block empty again starts the next call.
            Volatile.Write(ref _leasing, null);
            done.SetResult();
        }
    }

    /// <summary>One lease call (the caller holds the block's one slot, <see cref="_leasing"/>): reports the count, renews, and adds up to <paramref name="want"/>.</summary>
    private async Task CallAsync(long quota, long want, CancellationToken cancellationToken)
    {
        Volatile.Write(ref _quota, quota);
        var started = leasing.Time.GetTimestamp();
        var grant = await leasing.Leases.AcquireAsync(period.CustomerId, period.KeyId, period.Month, quota, leasing.Writer, period.Local, want, cancellationToken);
        Volatile.Write(ref _allocation, grant.Allocation);
        Volatile.Write(ref _lastGrant, grant.Granted);
        Volatile.Write(ref _failedUntil, 0);
        Volatile.Write(ref _exhaustedUntil, grant.Allocation <= period.Local && grant.Remaining == 0 ? leasing.Time.GetTimestamp() + leasing.RecheckTicks : 0);
        Volatile.Write(ref _validUntil, started + leasing.ValidTicks);
    }
}
