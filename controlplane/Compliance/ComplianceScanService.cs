using Gateway.Compliance;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.ControlPlane.Compliance;

/// <summary>The gateway's detection job: <see cref="ComplianceScan"/> every <see cref="ComplianceOptions.ScanInterval"/> of the injected clock (the function app runs it from a timer).</summary>
public sealed class ComplianceScanService(IServiceProvider services, IOptions<ComplianceOptions> options, TimeProvider time, ILogger<ComplianceScanService> log)
    : PeriodicJobService(time, log)
{
    // A failed scan (storage down, say) is judged again at the next tick; flags grow rather than repeat.
    protected override TimeSpan Interval => options.Value.ScanInterval;

    protected override string Name => "compliance scan";

    protected override Task RunOnceAsync(CancellationToken cancellationToken) =>
        services.GetRequiredService<ComplianceScan>().RunAsync(cancellationToken);
}
