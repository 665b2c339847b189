using System.Globalization;
using System.Text.Json.Nodes;

namespace Gateway.StripeTestServer.State;

/// <summary>A meter event Stripe accepted: what the usage-reporting tests count.</summary>
public sealed record AcceptedMeterEvent(string Identifier, string EventName, IReadOnlyDictionary<string, string> Payload, DateTimeOffset Timestamp, DateTimeOffset AcceptedAt);

/// <summary>
/// Everything the server remembers, behind one lock: objects by id (the JSON it answers with), accepted meter events,
/// the identifiers of the last 24 hours and saved idempotent responses. Requests are serialized per operation, as
/// Stripe serializes writes to one object; tests read the same state through <see cref="StripeTestServer.State"/>.
/// </summary>
public sealed class StripeState(TimeProvider time)
{
    /// <summary>How long Stripe refuses a meter-event identifier it has seen (a rolling 24 hours).</summary>
    public static readonly TimeSpan IdentifierWindow = TimeSpan.FromHours(24);

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Dictionary<string, JsonObject>> _objects = new(StringComparer.Ordinal);
    private readonly List<AcceptedMeterEvent> _meterEvents = [];
    private readonly Dictionary<string, DateTimeOffset> _identifiers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (int Status, string Body)> _idempotent = new(StringComparer.Ordinal);

    public TimeProvider Time { get; } = time;

    public DateTimeOffset Now => Time.GetUtcNow();

    public long NowSeconds => Now.ToUnixTimeSeconds();

    /// <summary>Every meter event accepted so far, in order of acceptance.</summary>
    public IReadOnlyList<AcceptedMeterEvent> MeterEvents
    {
        get
        {
            lock (_lock)
            {
                return [.. _meterEvents];
            }
        }
    }

    public void Put(string objectName, JsonObject value)
    {
        lock (_lock)
        {
            if (!_objects.TryGetValue(objectName, out var byId))
            {
                _objects[objectName] = byId = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
            }

            byId[(string)value["id"]!] = value;
        }
    }

    public JsonObject? Find(string objectName, string id)
    {
        lock (_lock)
        {
            return _objects.TryGetValue(objectName, out var byId) && byId.TryGetValue(id, out var value) ? (JsonObject)value.DeepClone() : null;
        }
    }

    /// <summary>Objects of a kind in creation order (oldest first), copied.</summary>
    public IReadOnlyList<JsonObject> All(string objectName)
    {
        lock (_lock)
        {
            return _objects.TryGetValue(objectName, out var byId) ? [.. byId.Values.Select(v => (JsonObject)v.DeepClone())] : [];
        }
    }

    /// <summary>Changes an object in place under the lock; null when there is no such object.</summary>
    public JsonObject? Update(string objectName, string id, Action<JsonObject> change)
    {
        lock (_lock)
        {
            if (!_objects.TryGetValue(objectName, out var byId) || !byId.TryGetValue(id, out var value))
            {
                return null;
            }

            change(value);
            return (JsonObject)value.DeepClone();
        }
    }

    /// <summary>
    /// Accepts a meter event unless its identifier was accepted within the last 24 hours: the check and the insert
    /// are one step under the lock, so two concurrent sends of one identifier cannot both be accepted.
    /// </summary>
    public bool TryAcceptMeterEvent(AcceptedMeterEvent meterEvent)
    {
        lock (_lock)
        {
            if (_identifiers.TryGetValue(meterEvent.Identifier, out var accepted) && meterEvent.AcceptedAt - accepted < IdentifierWindow)
            {
                return false;
            }

            _identifiers[meterEvent.Identifier] = meterEvent.AcceptedAt;
            _meterEvents.Add(meterEvent);
            return true;
        }
    }

    /// <summary>
    /// The meter's value per customer and UTC hour (or over the whole range), as Stripe aggregates it: events whose
    /// event name is the meter's, whose customer-mapping payload key names the customer, with a numeric value.
    /// </summary>
    public IReadOnlyList<(DateTimeOffset Start, DateTimeOffset End, decimal Value)> Summaries(JsonObject meter, string customer, DateTimeOffset start, DateTimeOffset end, bool hourly)
    {
        var eventName = (string?)meter["event_name"];
        var customerKey = (string?)meter["customer_mapping"]?["event_payload_key"] ?? "stripe_customer_id";
        var valueKey = (string?)meter["value_settings"]?["event_payload_key"] ?? "value";
        var sums = new SortedDictionary<DateTimeOffset, decimal>();
        foreach (var e in MeterEvents)
        {
            if (e.EventName != eventName || e.Timestamp < start || e.Timestamp >= end
                || !e.Payload.TryGetValue(customerKey, out var who) || who != customer
                || !e.Payload.TryGetValue(valueKey, out var text)
                || !decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out var value))
            {
                continue;
            }

            var window = hourly ? DateTimeOffset.FromUnixTimeSeconds(e.Timestamp.ToUnixTimeSeconds() / 3600 * 3600) : start;
            sums[window] = sums.GetValueOrDefault(window) + value;
        }

        return [.. sums.Select(s => (s.Key, hourly ? s.Key.AddHours(1) : end, s.Value))];
    }

    /// <summary>The response saved for an idempotency key (Stripe keeps them 24 hours), or null.</summary>
    public (int Status, string Body)? IdempotentResponse(string key)
    {
        lock (_lock)
        {
            return _idempotent.TryGetValue(key, out var saved) ? saved : null;
        }
    }

    public void SaveIdempotentResponse(string key, int status, string body)
    {
        lock (_lock)
        {
            _idempotent.TryAdd(key, (status, body));
        }
    }
}
