using Gateway.Core.Problems;
using Microsoft.Extensions.Options;
using Stripe;

namespace Gateway.Billing.Webhooks;

/// <summary>
/// Checks a webhook delivery the way Stripe specifies: the <c>Stripe-Signature</c> header's <c>v1</c> HMAC-SHA256 of
/// <c>"{t}.{body}"</c> under the endpoint's secret, <c>t</c> within <see cref="StripeOptions.WebhookTolerance"/> of the
/// injected clock (Stripe.net's <see cref="EventUtility"/>, given the clock's <c>utcNow</c>), then parses the event
/// (<see cref="StripeOptions.ApiVersionCheck"/>: refuse another API version). Every refusal is a 400 problem value.
/// </summary>
public sealed class StripeEventVerifier(IOptions<StripeOptions> options, TimeProvider time)
{
    public Outcome<Event> Verify(string body, string? signature)
    {
        var settings = options.Value;
        if (string.IsNullOrWhiteSpace(settings.WebhookSecret))
        {
            return new ApiProblem(ProblemTypes.WebhookNotConfigured, 503, "Set Gateway:Stripe:WebhookSecret (the endpoint's whsec_… signing secret) to receive Stripe webhooks.");
        }

        if (string.IsNullOrEmpty(signature))
        {
            return new ApiProblem(ProblemTypes.WebhookSignatureInvalid, 400, "The Stripe-Signature header is missing.");
        }

        try
        {
            EventUtility.ValidateSignature(body, signature, settings.WebhookSecret, (long)settings.WebhookTolerance.TotalSeconds, time.GetUtcNow().ToUnixTimeSeconds());
        }
        catch (StripeException e)
        {
            // Stripe.net's message says which: no v1 signature matches, or the timestamp lies outside the tolerance.
            return new ApiProblem(ProblemTypes.WebhookSignatureInvalid, 400, e.Message);
        }

        Event parsed;
        try
        {
            parsed = EventUtility.ParseEvent(body, throwOnApiVersionMismatch: settings.ApiVersionCheck);
        }
        catch (StripeException e) when (e.Message.Contains("API version", StringComparison.OrdinalIgnoreCase))
        {
            return new ApiProblem(ProblemTypes.WebhookApiVersionMismatch, 400, e.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            // Signed but not an event Stripe.net can read (JSON of another shape): the sender's mistake, never a 5xx.
            return new ApiProblem(ProblemTypes.WebhookMalformed, 400, "The body is not a Stripe event: " + e.GetType().Name + ".");
        }

        return parsed is { Id.Length: > 0, Type.Length: > 0 } && parsed.Created > DateTime.UnixEpoch
            ? parsed
            : new ApiProblem(ProblemTypes.WebhookMalformed, 400, "The event has no id, type or created time.");
    }
}
