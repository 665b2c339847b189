using Gateway.ControlPlane.Apis;
using Gateway.ControlPlane.Billing;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace Gateway.Functions.Billing;

/// <summary>
/// <c>POST /api/billing/stripe/webhook</c>: <see cref="StripeWebhookApi.ReceiveStripeWebhook"/>. No policy: the
/// Stripe-Signature header is the authentication, checked by the handler as on the gateway's admin port.
/// </summary>
public sealed class StripeWebhookFunction(StripeWebhooks webhooks)
{
    [Function(nameof(StripeWebhookApi.ReceiveStripeWebhook))]
    public async Task<IResult> Run([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "billing/stripe/webhook")] HttpRequest request) =>
        await StripeWebhookApi.ReceiveStripeWebhook(request, webhooks, request.HttpContext.RequestAborted);
}
