using Gateway.ControlPlane.Billing;
using Gateway.ControlPlane.Http;
using Gateway.Core.Problems;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Gateway.ControlPlane.Apis;

/// <summary>
/// <c>POST /billing/stripe/webhook</c>: Stripe's deliveries. No admin token, no role: the <c>Stripe-Signature</c> header
/// is the authentication (anonymous for ASP.NET; a delivery without a valid signature is a 400 and changes nothing).
/// Served on the gateway's admin port and by the function app (<c>/api/billing/stripe/webhook</c>).
/// </summary>
public static class StripeWebhookApi
{
    public const string Route = "/billing/stripe/webhook";

    /// <summary>The largest body read: Stripe's events are far smaller; anything larger is refused (413) unread.</summary>
    public const int MaxBodyBytes = 512 * 1024;

    public static RouteHandlerBuilder MapStripeWebhook(this IEndpointRouteBuilder app) =>
        app.MapPost(Route, ReceiveStripeWebhook)
            .WithName(nameof(ReceiveStripeWebhook))
            .WithSummary("Stripe webhook: authenticated by the Stripe-Signature header, not by a token; each event applied once, in any delivery order")
            .WithMetadata(AdminPlaneEndpoint.Instance, ControlPlaneOperation.Instance, new AdminBodyLimit(MaxBodyBytes))
            .WithTags("billing")
            .AllowAnonymous()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

    public static async Task<Results<Ok<StripeWebhookReceipt>, ProblemHttpResult>> ReceiveStripeWebhook(HttpRequest request, StripeWebhooks webhooks, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            return ProblemResults.From(ApiProblem.BodyTooLarge(MaxBodyBytes));
        }

        // The signature covers the exact bytes sent: read them whole as UTF-8 (Stripe sends UTF-8 JSON), never re-serialize.
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken);
        if (buffer.Length > MaxBodyBytes)
        {
            return ProblemResults.From(ApiProblem.BodyTooLarge(MaxBodyBytes));
        }

        var body = System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        var received = await webhooks.ReceiveAsync(body, request.Headers["Stripe-Signature"].ToString(), cancellationToken);
        return received.Succeeded ? TypedResults.Ok(received.Value!) : ProblemResults.From(received.Problem!);
    }
}
