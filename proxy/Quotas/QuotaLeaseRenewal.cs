namespace Gateway.Proxy.Quotas;

/// <summary>
/// Keeps this instance's quota leases (with quota leases on): every quarter of <c>LeaseTimeout</c>, a block that
/// admitted calls since the last pass is renewed once less than half its validity is left (reporting its count), and a
/// block that admitted none is returned (its unused calls go back to the other instances). On graceful shutdown, after
/// the server has drained, every block is returned. A block of a month that has ended is returned as well.
/// </summary>
public sealed partial class QuotaLeaseRenewal(QuotaLedger ledger, QuotaLeasing leasing, ILogger<QuotaLeaseRenewal> logger) : BackgroundService
{
    private static readonly TimeSpan ShutdownDeadline = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(leasing.LeaseTimeout / 4, leasing.Time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await PassAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One renewal pass over every block that holds a lease.</summary>
    public async Task PassAsync(CancellationToken cancellationToken)
    {
        foreach (var period in ledger.Periods)
        {
            if (period.Block is not { HoldsLease: true } block)
            {
                continue;
            }

            try
            {
                if (!block.TakeActivity())
                {
                    await block.ReturnAsync(cancellationToken);
                }
                else if (block.RenewalDue)
                {
                    await block.RenewAsync(cancellationToken);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                LogRenewalFailed(logger, e, period.KeyId);
            }
        }
    }

    /// <summary>Returns every block (graceful shutdown): what this instance did not use is free for the others at once.</summary>
    public async Task ReturnAllAsync(CancellationToken cancellationToken)
    {
        foreach (var period in ledger.Periods)
        {
            if (period.Block is { HoldsLease: true } block)
            {
                try
                {
                    await block.ReturnAsync(cancellationToken);
                }
                catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    LogRenewalFailed(logger, e, period.KeyId);
                }
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(ShutdownDeadline);
        await ReturnAllAsync(deadline.Token);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing or returning the quota lease of key {KeyId} failed; it is tried again next pass (a lease not renewed expires and is reclaimed).")]
    private static partial void LogRenewalFailed(ILogger logger, Exception exception, string keyId);
}
