using Gateway.ControlPlane.Keys;
using Microsoft.Azure.Functions.Worker;

namespace Gateway.Functions.Keys;

/// <summary>Every minute: <see cref="RotationOverlapSweep.SweepAsync"/>, as the gateway's hosted service does.</summary>
public sealed class RotationOverlapSweepFunction(RotationOverlapSweep sweep)
{
    public const string Name = "RotationOverlapSweep";

    [Function(Name)]
    public Task Run([TimerTrigger(RotationOverlapSweep.Schedule)] TimerInfo timer, CancellationToken cancellationToken) =>
        sweep.SweepAsync(cancellationToken);
}
