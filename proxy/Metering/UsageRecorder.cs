using System.Collections.Concurrent;
using System.Security.Cryptography;
using Gateway.Core;
using Gateway.Core.Usage;
using Microsoft.Extensions.Options;

namespace Gateway.Proxy.Metering;

/// <summary>
/// Counts calls in memory, per <see cref="UsageCell"/> (customer, key, route group, UTC hour, outcome), with one
/// interlocked increment and no allocation once a cell exists. <see cref="UsageFlushService"/> writes the cells
/// to the usage table as hour rows. Without a journal the writer id is unique per process start, so rows of earlier
/// runs are never overwritten; with one (<see cref="UsageJournal"/>) it is the journal's, and the replayed counts go on
/// from where the previous run left them, so its rows are rewritten with values that include them.
/// </summary>
public sealed class UsageRecorder : IUnflushedUsage, IUsageRowSource
{
    private const string JournalPrefix = "h\t";
    private readonly ConcurrentDictionary<UsageCell, FlushableCount> _cells = new();
    private readonly TimeProvider _time;
    private readonly UsageJournal? _journal;

    public UsageRecorder(IOptions<GatewayOptions> options, TimeProvider time, UsageJournal? journal = null)
    {
        _time = time;
        _journal = journal;
        Writer = journal?.Writer ?? NewWriter(options.Value.Metering);
        if (journal is not null)
        {
            Restore(journal);
        }
    }

    /// <summary>This process's writer id: the journal's (kept across runs), or without a journal a new one per process start.</summary>
    public string Writer { get; }

    /// <summary>This instance's name: <see cref="MeteringOptions.InstanceId"/>, else the host name.</summary>
    public static string InstanceName(MeteringOptions metering)
    {
        var instance = metering.InstanceId is { Length: > 0 } id ? id : Environment.MachineName;
        return new string([.. instance.Where(char.IsAsciiLetterOrDigit).Take(24)]);
    }

    /// <summary>A new writer id: the instance's name and 32 random bits.</summary>
    public static string NewWriter(MeteringOptions metering) => $"{InstanceName(metering)}-{RandomNumberGenerator.GetHexString(8, lowercase: true)}";

    public void Record(string customerId, string keyId, string routeGroup, CallOutcome outcome)
    {
        var cell = new UsageCell(customerId, keyId, routeGroup, UsageCalendar.HourOf(_time.GetUtcNow()), outcome);
        _cells.GetOrAdd(cell, static (c, journal) => NewCount(c, journal), _journal).Increment();
    }

    private static FlushableCount NewCount(UsageCell cell, UsageJournal? journal) =>
        journal is null
            ? new FlushableCount()
            : new FlushableCount(journal, $"{JournalPrefix}{cell.CustomerId}\t{cell.KeyId}\t{cell.RouteGroup}\t{cell.Hour}\t{cell.Outcome.Name()}");

    /// <summary>Folds the hour cells of the previous run's journal into memory, before any call is counted.</summary>
    private void Restore(UsageJournal journal)
    {
        foreach (var (key, value) in journal.Recovered)
        {
            if (key.StartsWith(JournalPrefix, StringComparison.Ordinal)
                && key.Split('\t') is [_, var customer, var keyId, var routeGroup, var hourText, var outcomeText]
                && int.TryParse(hourText, System.Globalization.CultureInfo.InvariantCulture, out var hour)
                && CallOutcomes.TryParse(outcomeText, out var outcome))
            {
                var cell = new UsageCell(customer, keyId, routeGroup, hour, outcome);
                _cells.GetOrAdd(cell, static (c, j) => NewCount(c, j), journal).Restore(value);
            }
        }
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
