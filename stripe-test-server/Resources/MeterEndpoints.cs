using System.Text.Json.Nodes;
using Gateway.StripeTestServer.Http;
using Gateway.StripeTestServer.State;
using Microsoft.AspNetCore.Routing;

namespace Gateway.StripeTestServer.Resources;

/// <summary>
/// Billing meters, meter events and meter event summaries. A meter event is checked as Stripe checks it on receipt
/// (event name and payload present, identifier at most 100 characters and unused for 24 hours, timestamp within 35
/// days back and 5 minutes ahead); whether a meter and a customer match is, as at Stripe, only seen when the
/// events are aggregated (summaries count the events that match).
/// </summary>
internal static class MeterEndpoints
{
    public const string Meter = "billing.meter";
    public const int MaxIdentifierLength = 100;
    public static readonly TimeSpan MaxAge = TimeSpan.FromDays(35);
    public static readonly TimeSpan MaxAhead = TimeSpan.FromMinutes(5);
    private static readonly string[] RequiredMeterFields = ["display_name", "event_name"];

    public static void MapMeters(this IEndpointRouteBuilder app)
    {
        app.MapStripe("POST", "/v1/billing/meters", call =>
        {
            foreach (var required in RequiredMeterFields)
            {
                if (call.Form.Text(required) is null)
                {
                    return StripeErrors.Missing(required);
                }
            }

            if (call.Form.Text("default_aggregation", "formula") is not { } formula)
            {
                return StripeErrors.Missing("default_aggregation[formula]");
            }

            var eventName = call.Form.Text("event_name")!;
            if (call.State.All(Meter).Any(m => (string?)m["event_name"] == eventName && (string?)m["status"] == "active"))
            {
                return StripeErrors.AlreadyExists("event_name", $"An active meter with event_name '{eventName}' already exists.");
            }

            var meter = call.NewObject(Meter, "mtr");
            meter["display_name"] = call.Form.Text("display_name");
            meter["event_name"] = eventName;
            meter["default_aggregation"] = new JsonObject { ["formula"] = formula };
            meter["customer_mapping"] = new JsonObject
            {
                ["event_payload_key"] = call.Form.Text("customer_mapping", "event_payload_key") ?? "stripe_customer_id",
                ["type"] = "by_id",
            };
            meter["value_settings"] = new JsonObject { ["event_payload_key"] = call.Form.Text("value_settings", "event_payload_key") ?? "value" };
            meter["status"] = "active";
            meter["updated"] = call.State.NowSeconds;
            call.State.Put(Meter, meter);
            return new StripeJson(meter);
        });
        app.MapStripe("GET", "/v1/billing/meters/{id}", call =>
            call.State.Find(Meter, call.Route("id")) is { } meter ? new StripeJson(meter) : StripeErrors.NotFound("billing.meter", call.Route("id")));
        app.MapStripe("GET", "/v1/billing/meters", call =>
        {
            var status = call.Form.Text("status");
            return call.List([.. call.State.All(Meter).Where(m => status is null || (string?)m["status"] == status)]);
        });
        app.MapStripe("POST", "/v1/billing/meter_events", CreateMeterEvent);
        app.MapStripe("GET", "/v1/billing/meters/{id}/event_summaries", ListSummaries);
    }

    private static Microsoft.AspNetCore.Http.IResult CreateMeterEvent(StripeCall call)
    {
        if (call.Form.Text("event_name") is not { } eventName)
        {
            return StripeErrors.Missing("event_name");
        }

        if (call.Form["payload"] is not JsonObject { Count: > 0 } payload)
        {
            return StripeErrors.Missing("payload");
        }

        var identifier = call.Form.Text("identifier") ?? Guid.NewGuid().ToString();
        if (identifier.Length > MaxIdentifierLength)
        {
            return StripeErrors.Invalid("identifier", $"Identifier must be at most {MaxIdentifierLength} characters long.");
        }

        if (!call.Form.TryLong("timestamp", out var seconds, out var problem))
        {
            return problem!;
        }

        var now = call.State.Now;
        var timestamp = seconds is { } s ? DateTimeOffset.FromUnixTimeSeconds(s) : now;
        if (timestamp < now - MaxAge)
        {
            return StripeErrors.Invalid("timestamp", "Timestamp must be within the past 35 days.");
        }

        if (timestamp > now + MaxAhead)
        {
            return StripeErrors.Invalid("timestamp", "Timestamp must not be more than 5 minutes in the future.");
        }

        var values = payload.Where(p => p.Value is JsonValue).ToDictionary(p => p.Key, p => (string)p.Value!, StringComparer.Ordinal);
        if (!call.State.TryAcceptMeterEvent(new AcceptedMeterEvent(identifier, eventName, values, timestamp, now)))
        {
            return StripeErrors.AlreadyExists("identifier", $"An event already exists with identifier {identifier}.");
        }

        var meterEvent = call.Fixtures.Create("billing.meter_event");
        meterEvent["created"] = now.ToUnixTimeSeconds();
        meterEvent["event_name"] = eventName;
        meterEvent["identifier"] = identifier;
        meterEvent["livemode"] = false;
        meterEvent["payload"] = payload.DeepClone();
        meterEvent["timestamp"] = timestamp.ToUnixTimeSeconds();
        return new StripeJson(meterEvent);
    }

    private static Microsoft.AspNetCore.Http.IResult ListSummaries(StripeCall call)
    {
        if (call.State.Find(Meter, call.Route("id")) is not { } meter)
        {
            return StripeErrors.NotFound("billing.meter", call.Route("id"));
        }

        if (call.Form.Text("customer") is not { } customer)
        {
            return StripeErrors.Missing("customer");
        }

        if (!call.Form.TryLong("start_time", out var start, out var problem) || !call.Form.TryLong("end_time", out var end, out problem))
        {
            return problem!;
        }

        if (start is null)
        {
            return StripeErrors.Missing("start_time");
        }

        if (end is null)
        {
            return StripeErrors.Missing("end_time");
        }

        if (end <= start)
        {
            return StripeErrors.Invalid("end_time", "end_time must be after start_time.");
        }

        var window = call.Form.Text("value_grouping_window");
        if (window is not (null or "hour" or "day"))
        {
            return StripeErrors.Invalid("value_grouping_window", "Invalid value_grouping_window: must be one of day or hour.");
        }

        if (window == "hour" && (start % 3600 != 0 || end % 3600 != 0))
        {
            return StripeErrors.Invalid("start_time", "start_time and end_time must be aligned to the hour when value_grouping_window is hour.");
        }

        if (window == "day")
        {
            return StripeErrors.Invalid("value_grouping_window", "This test server groups by hour or over the whole range only.");
        }

        var summaries = call.State.Summaries(meter, customer, DateTimeOffset.FromUnixTimeSeconds(start.Value), DateTimeOffset.FromUnixTimeSeconds(end.Value), window == "hour")
            .Select(s =>
            {
                var summary = call.Fixtures.Create("billing.meter_event_summary");
                summary["id"] = $"mtrusg_{meter["id"]}_{s.Start.ToUnixTimeSeconds()}";
                summary["aggregated_value"] = s.Value;
                summary["start_time"] = s.Start.ToUnixTimeSeconds();
                summary["end_time"] = s.End.ToUnixTimeSeconds();
                summary["meter"] = (string?)meter["id"];
                return summary;
            })
            .ToList();
        return call.List(summaries);
    }
}
