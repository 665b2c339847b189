using Gateway.Core;
using Gateway.Proxy.Metering;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Gateway.Proxy.Hosting.HealthChecks;

/// <summary>
/// Usage reaches storage: unhealthy once flushes have failed, or hung, for longer than
/// <see cref="MeteringOptions.UnhealthyAfter"/> while there was something to write. Precisely: once the oldest count
/// not yet in storage (<see cref="UsageFlushStatus.OldestUnflushedAge"/>) is older than the wait of a count in normal
/// running (one <see cref="MeteringOptions.FlushInterval"/>, or as many as the largest partition's backlog needs:
/// <see cref="UsageFlushStatus.BacklogFlushes"/>) plus <c>UnhealthyAfter</c>.
/// Counts are not lost meanwhile, but a crash would lose them all.
/// </summary>
public sealed class UsageFlushHealthCheck(UsageFlushStatus flushes, IOptions<GatewayOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken)
    {
        var age = flushes.OldestUnflushedAge();
        var metering = options.Value.Metering;
        return Task.FromResult(age > metering.FlushInterval * flushes.BacklogFlushes + metering.UnhealthyAfter
            ? new HealthCheckResult(context.Registration.FailureStatus, $"Usage counted {age.TotalSeconds:0} s ago is not in storage yet: flushes have failed for longer than {metering.UnhealthyAfter.TotalSeconds:0} s.")
            : HealthCheckResult.Healthy($"Usage not yet in storage is at most {age.TotalSeconds:0.0} s old."));
    }
}
