using System.Diagnostics;
using Gateway.Core.Usage;
using Gateway.Proxy.Keys;
using static Gateway.Proxy.Telemetry.TelemetryNames;

namespace Gateway.Proxy.Telemetry;

/// <summary>
/// The gateway's span around forwarding an admitted call (<see cref="TelemetryNames.ForwardSpan"/>), the parent of
/// YARP's and HttpClient's spans for the upstream request. It carries the key id (never the key), the customer, the
/// plan, the route group and, when it ends, the outcome usage counted. Without a listener, or for a call the sampler
/// drops, <see cref="Start"/> creates nothing and costs one check.
/// The span is found again through <see cref="Activity.Current"/> (the call's async flow carries it from admission to
/// counting) rather than kept beside the call: one field more in the state machine that waits for the upstream would
/// cost every forwarded call 16 bytes, traced or not.
/// </summary>
public static class ForwardingSpans
{
    private static readonly ActivitySource Spans = new(Source);

    /// <summary>Starts the span and makes it current, so YARP's and HttpClient's spans become its children.</summary>
    public static void Start(ApiCaller caller, string routeGroup)
    {
        var span = Spans.StartActivity(ForwardSpan, ActivityKind.Internal);
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag(KeyIdTag, caller.KeyId);
            span.SetTag(CustomerIdTag, caller.CustomerId);
            span.SetTag(PlanTag, caller.Plan.Name);
            span.SetTag(RouteGroupTag, routeGroup);
        }
    }

    /// <summary>Ends the call's span, if it has one, with the outcome usage counted.</summary>
    public static void Stop(CallOutcome outcome)
    {
        var span = Activity.Current;
        while (span is not null && !ReferenceEquals(span.Source, Spans))
        {
            span = span.Parent;
        }

        if (span is null)
        {
            return;
        }

        if (span.IsAllDataRequested)
        {
            span.SetTag(OutcomeTag, outcome.Name());
            if (outcome == CallOutcome.GatewayError)
            {
                span.SetStatus(ActivityStatusCode.Error, "The upstream gave no whole answer.");
            }
        }

        span.Stop();
    }
}
