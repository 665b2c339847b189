using Gateway.Billing.Webhooks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.ControlPlane.Billing;

/// <summary>
/// Suspends the keys of customers whose grace after a failed payment has ended (<c>Gateway:Billing:PaymentFailedGrace</c>):
/// every account whose <c>SuspendAt</c> has passed is converged (<see cref="BillingEnforcement"/>). Run every
/// <see cref="Interval"/> by the gateway (<see cref="PaymentGraceSweepService"/>) and by the function app's timer;
/// several sweeps at once suspend and audit each key once (the suspension is ETag-conditional).
/// </summary>
public sealed class PaymentGraceSweep(BillingAccounts accounts, BillingEnforcement enforcement, Gateway.Billing.BillingTables tables, TimeProvider time)
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    /// <summary>The same interval as the function app's timer schedule (NCRONTAB, with seconds).</summary>
    public const string Schedule = "30 * * * * *";

    /// <summary>Answers the keys this sweep suspended.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        await tables.EnsureCreatedAsync(cancellationToken);
        var changes = 0;
        foreach (var account in await accounts.ListSuspensionDueAsync(time.GetUtcNow(), cancellationToken))
        {
            changes += await enforcement.ConvergeAsync(account.StripeCustomerId, cancellationToken);
        }

        return changes;
    }
}

/// <summary>The gateway's sweep: <see cref="PaymentGraceSweep"/> every <see cref="PaymentGraceSweep.Interval"/> of the injected clock.</summary>
public sealed class PaymentGraceSweepService(IServiceProvider services, TimeProvider time, ILogger<PaymentGraceSweepService> log)
    : PeriodicJobService(time, log)
{
    protected override TimeSpan Interval => PaymentGraceSweep.Interval;

    protected override string Name => "payment grace sweep";

    protected override Task RunOnceAsync(CancellationToken cancellationToken) =>
        services.GetRequiredService<PaymentGraceSweep>().SweepAsync(cancellationToken);
}
