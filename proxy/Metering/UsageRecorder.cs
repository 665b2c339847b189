using System.Collections.Concurrent;
using System.Security.Cryptography;
using Gateway.Core;
using Gateway.Core.Usage;
using Microsoft.Extensions.Options;

namespace Gateway.Proxy.Metering;

/// <summary>A cell's cumulative count in this process and how much of it storage already holds.</summary>
public sealed class UsageCounter
{
    private long _count;
    private long _flushed;

    public long Count => Volatile.Read(ref _count);

    public long Flushed => Volatile.Read(ref _flushed);

    public void Increment() => Interlocked.Increment(ref _count);

    public void MarkFlushed(long value)
    {
        long seen;
        while ((seen = Volatile.Read(ref _flushed)) < value && Interlocked.CompareExchange(ref _flushed, value, seen) != seen)
        {
        }
    }
}

/// <summary>
/// Counts calls in memory, per <see cref="UsageCell"/> (customer, key, route group, UTC hour, outcome), with one
/// interlocked increment and no allocation once a cell exists. <see cref="UsageFlushService"/> writes the cells
/// to the usage table. The writer id is unique per process start, so rows of earlier runs are never overwritten.
/// </summary>
public sealed class UsageRecorder : IUnflushedUsage
{
    private readonly ConcurrentDictionary<UsageCell, UsageCounter> _cells = new();
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
        _cells.GetOrAdd(cell, static _ => new UsageCounter()).Increment();
    }

    public IEnumerable<KeyValuePair<UsageCell, UsageCounter>> Cells => _cells;

    /// <summary>Drops cells that are fully written and old enough that no call can still land in them.</summary>
    public void Forget(int beforeHour)
    {
        foreach (var (cell, counter) in _cells)
        {
            if (cell.Hour < beforeHour && counter.Flushed == counter.Count)
            {
                _cells.TryRemove(new KeyValuePair<UsageCell, UsageCounter>(cell, counter));
            }
        }
    }

    public IEnumerable<UsageCount> Counts(string customerId, int fromHour, int toHour) =>
        _cells.Where(c => c.Key.CustomerId == customerId && c.Key.Hour >= fromHour && c.Key.Hour < toHour)
            .Select(c => new UsageCount(c.Key, Writer, c.Value.Count));
}
