using System.Diagnostics.Metrics;
using Gateway.Core.Storage;
using Gateway.Core.Usage;
using Gateway.Proxy.Metering;
using static Gateway.Proxy.Telemetry.TelemetryNames;

namespace Gateway.Proxy.Telemetry;

/// <summary>
/// The gateway's instruments, on one meter (<see cref="TelemetryNames.Source"/>), each defined once. Recording costs a
/// few instructions and allocates nothing when nobody listens (no exporter configured): counters with up to three
/// tags pass them on the stack, and the admission histogram is only timed while it is enabled. Upstream latency and
/// server request metrics come from the framework's own meters (<see cref="TelemetryNames.FrameworkMeters"/>).
/// </summary>
public sealed class GatewayMetrics
{
    private static readonly double[] MicrosecondsToSeconds =
        [0.000_002, 0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

    private static readonly double[] MillisecondsToMinutes = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private readonly TimeProvider _time;

    public GatewayMetrics(IMeterFactory meters, UsageFlushStatus flushes, TableRequestCounter storage, TimeProvider time)
    {
        _time = time;
        var meter = meters.Create(Source);
        CallCounter = meter.CreateCounter<long>(
            Calls, "{call}", "Calls to a route by a known key, as usage counts them: by plan, route group and outcome.");
        AdmissionHistogram = meter.CreateHistogram(
            AdmissionDuration, "s", "Time from the start of the gateway's step to handing an admitted call to the forwarder: key, licence, rate limit, quota.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = MicrosecondsToSeconds });
        KeyCacheCounter = meter.CreateCounter<long>(
            KeyCacheLookups, "{lookup}", "Keys verified from memory (hit) or only after reading storage (miss).");
        KeyChangesCounter = meter.CreateCounter<long>(
            KeyChangesReceived, "{change}", "Key changes received over Service Bus and applied to the key cache, by reason (revoked, suspended, ...).");
        FlushHistogram = meter.CreateHistogram(
            FlushDuration, "s", "Time one usage flush took to write the changed cells, by result.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = MillisecondsToMinutes });
        RowsCounter = meter.CreateCounter<long>(RowsWritten, "{row}", "Usage rows written to Table Storage.");
        FailuresCounter = meter.CreateCounter<long>(
            FlushFailures, "{batch}", "Usage batches (single-partition transactions) that failed; their rows are written by a later flush.");
        DeferredCounter = meter.CreateCounter<long>(
            RowsDeferred, "{row}", "Dirty usage rows an interval flush left for the next one, past its partition budget.");
        meter.CreateObservableGauge(
            DirtyCells, () => (long)flushes.DirtyCells(), "{cell}", "Usage cells and quota-month rows counted in memory and not yet in storage.");
        meter.CreateObservableGauge(
            OldestUnflushedAge, () => flushes.OldestUnflushedAge().TotalSeconds, "s",
            "The live loss window: at most how long ago the oldest count not yet in storage was made; 0 when storage has everything.");
        meter.CreateObservableCounter(
            StorageRequests, () => storage.Requests, "{request}", "HTTP requests sent to Table Storage: key reads and refreshes, quota baselines, flushes, retries.");
    }

    internal Counter<long> CallCounter { get; }

    internal Histogram<double> AdmissionHistogram { get; }

    internal Counter<long> KeyCacheCounter { get; }

    internal Counter<long> KeyChangesCounter { get; }

    internal Histogram<double> FlushHistogram { get; }

    internal Counter<long> RowsCounter { get; }

    internal Counter<long> FailuresCounter { get; }

    internal Counter<long> DeferredCounter { get; }

    /// <summary>One counted call (where usage records it).</summary>
    public void Call(string plan, string routeGroup, CallOutcome outcome) =>
        CallCounter.Add(1, new(PlanTag, plan), new(RouteGroupTag, routeGroup), new(OutcomeTag, outcome.Name()));

    /// <summary>A start for <see cref="Admitted"/>, or 0 while nobody listens to the admission histogram (then nothing is timed).</summary>
    public long AdmissionStarting() => AdmissionHistogram.Enabled ? _time.GetTimestamp() : 0;

    public void Admitted(long started)
    {
        if (started != 0)
        {
            AdmissionHistogram.Record(_time.GetElapsedTime(started).TotalSeconds);
        }
    }

    public void KeyCacheHit() => KeyCacheCounter.Add(1, new KeyValuePair<string, object?>(KeyCacheResultTag, Hit));

    public void KeyCacheMiss() => KeyCacheCounter.Add(1, new KeyValuePair<string, object?>(KeyCacheResultTag, Miss));

    public void Flushed(TimeSpan duration, FlushResult result)
    {
        FlushHistogram.Record(duration.TotalSeconds, new KeyValuePair<string, object?>(FlushResultTag, result.FailedBatches == 0 ? Complete : Incomplete));
        if (result.Rows > 0)
        {
            RowsCounter.Add(result.Rows);
        }

        if (result.FailedBatches > 0)
        {
            FailuresCounter.Add(result.FailedBatches);
        }

        if (result.Deferred > 0)
        {
            DeferredCounter.Add(result.Deferred);
        }
    }
}
