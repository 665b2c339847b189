using System.Globalization;
using Gateway.ControlPlane.Audit;
using Gateway.Core.Keys;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gateway.ControlPlane.Keys;

/// <summary>
/// Ends rotation overlaps: a rotated key whose overlap has ended becomes <c>revoked</c> in storage (the data plane has
/// refused it since its <c>ExpiresAt</c> already), and one audit entry records it (actor <c>system</c>, action
/// <c>key.revoked</c>). Run every <see cref="Interval"/> by the gateway (<see cref="RotationOverlapSweepService"/>)
/// and by the function app's timer; several instances may sweep at once: the revocation is an ETag-conditional write,
/// so each key is revoked, and audited, by exactly one sweep (<see cref="ApiKeyService.RevokeLapsedAsync"/>).
/// </summary>
public sealed class RotationOverlapSweep(ApiKeyService keys, AuditLog audit, TimeProvider time)
{
    /// <summary>How often hosts sweep: a lapsed key is listed as revoked within about this long of its expiry.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    /// <summary>The same interval as the function app's timer schedule (NCRONTAB, with seconds).</summary>
    public const string Schedule = "0 * * * * *";

    /// <summary>The actor and role audit entries of the sweep name.</summary>
    public const string Actor = "system";

    /// <summary>Revokes the lapsed keys and audits each; answers how many this sweep revoked.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var revoked = await keys.RevokeLapsedAsync(cancellationToken);
        foreach (var key in revoked)
        {
            var summary = string.Create(CultureInfo.InvariantCulture, $"rotation overlap ended at {key.ExpiresAt:yyyy-MM-dd'T'HH:mm:ss'Z'}");
            await audit.AppendAsync(new AuditEntry(time.GetUtcNow(), Actor, Actor, AuditActions.KeyRevoked, key.Id, Source: null, summary), cancellationToken);
        }

        return revoked.Count;
    }
}

/// <summary>The gateway's sweep: <see cref="RotationOverlapSweep"/> every <see cref="RotationOverlapSweep.Interval"/> of the injected clock.</summary>
public sealed class RotationOverlapSweepService(IServiceProvider services, TimeProvider time, ILogger<RotationOverlapSweepService> log)
    : PeriodicJobService(time, log)
{
    // Storage down, say: the next tick tries again; the data plane refuses lapsed keys meanwhile.
    protected override TimeSpan Interval => RotationOverlapSweep.Interval;

    protected override string Name => "rotation overlap sweep";

    protected override Task RunOnceAsync(CancellationToken cancellationToken) =>
        services.GetRequiredService<RotationOverlapSweep>().SweepAsync(cancellationToken);
}
