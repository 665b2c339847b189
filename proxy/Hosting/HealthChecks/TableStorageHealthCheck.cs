using Azure;
using Azure.Data.Tables;
using Gateway.Core.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Gateway.Proxy.Hosting.HealthChecks;

/// <summary>
/// Table Storage answers: a point read of an entity that does not exist in the usage table (one request, nothing
/// transferred), waited for at most <see cref="Timeout"/>. One answer serves every probe for <see cref="Reuse"/>, and
/// probes that arrive while a read is in flight share it, so calling the endpoint often (it is on the public port)
/// never turns into a flood of storage requests.
/// </summary>
public sealed class TableStorageHealthCheck(GatewayTables tables, TimeProvider time) : IHealthCheck
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan Reuse = TimeSpan.FromSeconds(5);

    private readonly Lock _lock = new();
    private Task<(bool Answered, string Description)>? _last;
    private long _lastStarted;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken)
    {
        Task<(bool Answered, string Description)> read;
        lock (_lock)
        {
            if (_last is null || (_last.IsCompleted && time.GetElapsedTime(_lastStarted) >= Reuse))
            {
                _lastStarted = time.GetTimestamp();
                _last = ReadAsync();
            }

            read = _last;
        }

        var (answered, description) = await read.WaitAsync(cancellationToken);
        return new HealthCheckResult(answered ? HealthStatus.Healthy : context.Registration.FailureStatus, description);
    }

    private async Task<(bool, string)> ReadAsync()
    {
        // Real time, not the injected clock: this bounds a wait on the network.
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await tables.Usage.GetEntityIfExistsAsync<TableEntity>("healthz", "healthz", select: ["PartitionKey"], cancellationToken: timeout.Token);
            return (true, "Table Storage answered.");
        }
        catch (RequestFailedException e) when (e.Status > 0)
        {
            return (false, $"Table Storage answered {e.Status} ({e.ErrorCode}).");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return (false, timeout.IsCancellationRequested ? $"Table Storage did not answer within {Timeout.TotalSeconds:0} s." : "Table Storage could not be reached.");
        }
    }
}
