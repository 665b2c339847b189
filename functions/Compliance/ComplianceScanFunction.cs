using Gateway.Compliance;
using Microsoft.Azure.Functions.Worker;

namespace Gateway.Functions.Compliance;

/// <summary>Every five minutes: <see cref="ComplianceScan.RunAsync"/>, as the gateway's hosted service does on <c>Gateway:Compliance:ScanInterval</c>.</summary>
public sealed class ComplianceScanFunction(ComplianceScan scan)
{
    public const string Name = "ComplianceScan";

    [Function(Name)]
    public Task Run([TimerTrigger(ComplianceScan.Schedule)] TimerInfo timer, CancellationToken cancellationToken) =>
        scan.RunAsync(cancellationToken);
}
