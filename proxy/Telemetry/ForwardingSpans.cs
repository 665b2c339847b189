using System.Diagnostics;
using Gateway.Core.Usage;
using Gateway.Proxy.Keys;
using static Gateway.Proxy.Telemetry.TelemetryNames;

namespace Gateway.Proxy.Telemetry;

/// <summary>
/// The gateway's span around forwarding an admitted call (<see cref="TelemetryNames.ForwardSpan"/>), the parent of
/// YARP's and HttpClient's spans for the upstream request. It carries the key id (never the key), the customer, the
/// plan, the route group and, when it ends, the outcome usage counted. Without a listener, or for a call the sampler
/// drops, <see cref="Start"/> returns null and costs one check.
/// </summary>
public static class ForwardingSpans
{
    private static readonly ActivitySource Spans = new(Source);

    public static Activity? Start(ApiCaller caller, string routeGroup)
    {
        var span = Spans.StartActivity(ForwardSpan, ActivityKind.Internal);
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag(KeyIdTag, caller.KeyId);
            span.SetTag(CustomerIdTag, caller.CustomerId);
            span.SetTag(PlanTag, caller.Plan.Name);
            span.SetTag(RouteGroupTag, routeGroup);
        }

        return span;
    }

    public static void Stop(Activity? span, CallOutcome outcome)
    {
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
