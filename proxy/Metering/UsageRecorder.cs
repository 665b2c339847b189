using System.Collections.Concurrent;
using System.Security.Cryptography;
using Gateway.Core;
using Gateway.Core.Usage;
using Microsoft.Extensions.Options;

namespace Gateway.Proxy.Metering;

/// <summary>
/// Counts calls in memory, per <see cref="UsageCell"/> (customer, key, route group, UTC hour, outcome), with one
/// interlocked increment and no allocation once a cell exists. <see cref="UsageFlushService"/> writes the cells
/// to the usage table as hour rows. The writer id is unique per process start, so rows of earlier runs are never overwritten.
/// </summary>
public sealed class UsageRecorder : IUnflushedUsage, IUsageRowSource
{
    private readonly ConcurrentDictionary<UsageCell, FlushableCount> _cells = new();
    private readonly TimeProvider _time;

    public UsageRecorder(IOptions<GatewayOptions> options, TimeProvider time)
    {
        _time = time;
        var instance = options.Value.Metering.InstanceId is { Length: > 0 } id ? id : Environment.MachineName;
        var sanitized = new string([.. instance.Where(char.IsAsciiLetterOrDigit).Take(24)]);
        Writer = $"{sanitized}-{RandomNumberGenerator.GetHexString(8, lowercase: true)}";
    }

    public string Writer { get; }

    public void Record(string customerId, string keyId, string routeGroup, CallOutcome outcome)
    {
        var cell = new UsageCell(customerId, keyId, routeGroup, UsageCalendar.HourOf(_time.GetUtcNow()), outcome);
        _cells.GetOrAdd(cell, static _ => new FlushableCount()).Increment();
    }

    public IEnumerable<KeyValuePair<UsageCell, FlushableCount>> Cells => _cells;

    public IEnumerable<FlushableCount> FlushableCounts => _cells.Select(c => c.Value);

    public IEnumerable<UsageRow> DirtyRows(string writer)
    {
        foreach (var (cell, counter) in _cells)
        {
            if (counter.TryReadDirty(out var count))
            {
                yield return new UsageRow(UsageTable.HourRow(new UsageCount(cell, writer, count)), counter, count);
            }
        }
    }

    /// <summary>Hours end; a cell two hours past gets no more calls.</summary>
    public void ForgetFlushed(DateTimeOffset now) => Forget(beforeHour: UsageCalendar.HourOf(now) - 2);

    /// <summary>Drops cells that are fully written and old enough that no call can still land in them.</summary>
    public void Forget(int beforeHour)
    {
        foreach (var (cell, counter) in _cells)
        {
            if (cell.Hour < beforeHour && !counter.IsDirty)
            {
                _cells.TryRemove(new KeyValuePair<UsageCell, FlushableCount>(cell, counter));
            }
        }
    }

    public IEnumerable<UsageCount> Counts(string customerId, int fromHour, int toHour) =>
        _cells.Where(c => c.Key.CustomerId == customerId && c.Key.Hour >= fromHour && c.Key.Hour < toHour)
            .Select(c => new UsageCount(c.Key, Writer, c.Value.Count));
}
