namespace Gateway.Proxy.Telemetry;

/// <summary>
/// The names operators query by: the meter and activity source, the instruments, their tags and the forwarding span.
/// Dashboards and alerts are built on them, so they do not change once released.
/// </summary>
public static class TelemetryNames
{
    /// <summary>The gateway's <see cref="System.Diagnostics.Metrics.Meter"/> and <see cref="System.Diagnostics.ActivitySource"/>.</summary>
    public const string Source = "Gateway.Proxy";

    public const string Calls = "gateway.calls";
    public const string AdmissionDuration = "gateway.admission.duration";
    public const string KeyCacheLookups = "gateway.key_cache.lookups";
    public const string KeyChangesReceived = "gateway.key_changes.received";
    public const string FlushDuration = "gateway.usage.flush.duration";
    public const string RowsWritten = "gateway.usage.rows_written";
    public const string FlushFailures = "gateway.usage.flush.failures";
    public const string RowsDeferred = "gateway.usage.rows_deferred";
    public const string DirtyCells = "gateway.usage.dirty_cells";
    public const string OldestUnflushedAge = "gateway.usage.oldest_unflushed.age";
    public const string StorageRequests = "gateway.storage.requests";

    /// <summary>The span around forwarding an admitted call to the upstream.</summary>
    public const string ForwardSpan = "gateway.forward";

    public const string PlanTag = "gateway.plan";
    public const string RouteGroupTag = "gateway.route_group";
    public const string OutcomeTag = "gateway.outcome";
    public const string KeyIdTag = "gateway.key.id";
    public const string CustomerIdTag = "gateway.customer.id";
    public const string KeyCacheResultTag = "gateway.key_cache.result";
    public const string FlushResultTag = "gateway.flush.result";
    public const string KeyChangeReasonTag = "gateway.key_change.reason";

    /// <summary>Values of <see cref="KeyCacheResultTag"/>: the key was verified from memory, or verifying it waited for storage.</summary>
    public const string Hit = "hit";
    public const string Miss = "miss";

    /// <summary>Values of <see cref="FlushResultTag"/>: every batch was written, or some failed and wait for the next flush.</summary>
    public const string Complete = "complete";
    public const string Incomplete = "incomplete";

    /// <summary>Framework meters exported with the gateway's own: server requests, connections, upstream latency, runtime.</summary>
    public static readonly string[] FrameworkMeters =
    [
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "System.Net.Http",
        "System.Runtime",
    ];

    /// <summary>Framework activity sources traced with the gateway's own span: YARP's forwarder and the outgoing HTTP request.</summary>
    public static readonly string[] FrameworkSources = ["Yarp.ReverseProxy", "System.Net.Http"];
}
