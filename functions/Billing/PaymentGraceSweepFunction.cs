using Gateway.ControlPlane.Billing;
using Microsoft.Azure.Functions.Worker;

namespace Gateway.Functions.Billing;

/// <summary>Every minute: <see cref="PaymentGraceSweep.SweepAsync"/> (suspends keys whose grace after a failed payment ended), as the gateway's hosted service does.</summary>
public sealed class PaymentGraceSweepFunction(PaymentGraceSweep sweep)
{
    public const string Name = "PaymentGraceSweep";

    [Function(Name)]
    public Task Run([TimerTrigger(PaymentGraceSweep.Schedule)] TimerInfo timer, CancellationToken cancellationToken) =>
        sweep.SweepAsync(cancellationToken);
}
