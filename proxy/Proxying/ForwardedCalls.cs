using Gateway.Core.Usage;
using Gateway.Proxy.Problems;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Proxy.Proxying;

/// <summary>
/// How a forwarded call ended, read once forwarding is done from the response status and YARP's
/// <see cref="IForwarderErrorFeature"/> (absent when all went well, so the common case costs one feature lookup).
/// <list type="table">
/// <item><term>the upstream answered</term><description>its status class (<c>2xx</c>…<c>5xx</c>), an upstream 502/503/504 included, or <c>429</c></description></item>
/// <item><term>could not connect, refused, failed before answering, no destination, a transform failed</term><description><c>gateway-error</c>, 502 <c>upstream-unavailable</c></description></item>
/// <item><term>no answer within the cluster's <c>ActivityTimeout</c> (also a body that stalls before any of it was sent on)</term><description><c>gateway-error</c>, 504 <c>upstream-timeout</c></description></item>
/// <item><term>the upstream broke off or stalled after its answer had begun to reach the caller</term><description><c>gateway-error</c>; the caller's response is cut off, nothing can be written</description></item>
/// <item><term>the caller went away, or its request body failed, before any answer reached it</term><description><c>client-aborted</c>; no problem written</description></item>
/// <item><term>the caller went away while the answer was being sent on</term><description>the upstream's status class: it answered</description></item>
/// </list>
/// Only upstream answers in the key's plan's billable set are billable (<see cref="Core.Plans.Plan.Bills"/>); the others give their quota back.
/// </summary>
public static class ForwardedCalls
{
    /// <summary>The call's outcome; for <see cref="CallOutcome.GatewayError"/> also the problem the caller gets if the response has not started.</summary>
    public static CallOutcome Outcome(HttpContext context, out Rejection problem)
    {
        problem = Rejection.UpstreamUnavailable;
        var response = context.Response;
        var failure = context.Features.Get<IForwarderErrorFeature>();
        if (failure is null)
        {
            return CallOutcomes.FromStatusCode(response.StatusCode);
        }

        switch (failure.Error)
        {
            case ForwarderError.None:
                return CallOutcomes.FromStatusCode(response.StatusCode);

            case ForwarderError.RequestBodyClient or ForwarderError.ResponseBodyClient
                or ForwarderError.UpgradeRequestClient or ForwarderError.UpgradeResponseClient
                or ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled
                or ForwarderError.UpgradeRequestCanceled or ForwarderError.UpgradeResponseCanceled:
                // The caller's side: it failed or went away (YARP's "canceled" is the caller's RequestAborted, never a
                // timeout). Once the response has started, the status on it is the upstream's answer.
                return response.HasStarted ? CallOutcomes.FromStatusCode(response.StatusCode) : CallOutcome.ClientAborted;

            case ForwarderError.RequestBodyDestination when response.StatusCode is not (StatusCodes.Status502BadGateway or StatusCodes.Status504GatewayTimeout):
                // Also reported after a whole answer from an upstream that did not read the request body to its end;
                // YARP then leaves the upstream's status, where before an answer it sets 502 or 504.
                return CallOutcomes.FromStatusCode(response.StatusCode);

            default:
                // The upstream's side. YARP reports an ActivityTimeout that fires while reading or writing a body as
                // that side's error, with the cancellation as its exception.
                var timedOut = failure.Error is ForwarderError.RequestTimedOut or ForwarderError.UpgradeActivityTimeout
                    || failure.Exception is OperationCanceledException
                    || response.StatusCode == StatusCodes.Status504GatewayTimeout;
                problem = timedOut ? Rejection.UpstreamTimeout : Rejection.UpstreamUnavailable;
                return CallOutcome.GatewayError;
        }
    }
}
