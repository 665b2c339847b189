using Gateway.StripeTestServer.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.StripeTestServer.Resources;

/// <summary>
/// Checkout sessions (<c>/v1/checkout/sessions</c>) and customer-portal sessions (<c>/v1/billing_portal/sessions</c>):
/// created open, with a URL that points nowhere real; nobody pays here (a test completes a session by delivering
/// <c>checkout.session.completed</c> itself).
/// </summary>
internal static class SessionEndpoints
{
    public const string Checkout = "checkout.session";
    public const string Portal = "billing_portal.session";

    public static void MapSessions(this IEndpointRouteBuilder app)
    {
        app.MapStripe("POST", "/v1/checkout/sessions", call =>
        {
            if (call.Form.Text("mode") is not { } mode)
            {
                return StripeErrors.Missing("mode");
            }

            if (mode is not ("payment" or "setup" or "subscription"))
            {
                return StripeErrors.Invalid("mode", $"Invalid mode: {mode}");
            }

            if (call.Form.Text("success_url") is null && call.Form.Text("ui_mode") is not ("embedded" or "custom"))
            {
                return StripeErrors.Missing("success_url");
            }

            if (mode == "subscription" && call.Form["line_items"] is null)
            {
                return StripeErrors.Missing("line_items");
            }

            if (call.Form.Text("customer") is { } customer && call.State.Find(CustomerEndpoints.Object, customer) is null)
            {
                return StripeErrors.NotFound("customer", customer, "customer");
            }

            var session = call.NewObject(Checkout, "cs_test");
            session["mode"] = mode;
            session["status"] = "open";
            session["payment_status"] = "unpaid";
            session["customer"] = call.Form.Text("customer");
            session["customer_email"] = call.Form.Text("customer_email");
            session["client_reference_id"] = call.Form.Text("client_reference_id");
            session["success_url"] = call.Form.Text("success_url");
            session["cancel_url"] = call.Form.Text("cancel_url");
            session["subscription"] = null;
            session["expires_at"] = call.State.Now.AddHours(24).ToUnixTimeSeconds();
            session["url"] = $"https://checkout.stripe.com/c/pay/{session["id"]}";
            call.State.Put(Checkout, session);
            return new StripeJson(session);
        });
        app.MapStripe("GET", "/v1/checkout/sessions/{id}", call =>
            call.State.Find(Checkout, call.Route("id")) is { } session ? new StripeJson(session) : StripeErrors.NotFound("checkout.session", call.Route("id")));
        app.MapStripe("POST", "/v1/billing_portal/sessions", call =>
        {
            if (call.Form.Text("customer") is not { } customer)
            {
                return StripeErrors.Missing("customer");
            }

            if (call.State.Find(CustomerEndpoints.Object, customer) is null)
            {
                return StripeErrors.NotFound("customer", customer, "customer");
            }

            var session = call.NewObject(Portal, "bps");
            session["customer"] = customer;
            session["return_url"] = call.Form.Text("return_url");
            session["flow"] = null;
            session["url"] = $"https://billing.stripe.com/p/session/test_{session["id"]}";
            call.State.Put(Portal, session);
            return new StripeJson(session);
        });
    }
}
