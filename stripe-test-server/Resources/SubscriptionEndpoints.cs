using System.Text.Json.Nodes;
using Gateway.StripeTestServer.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.StripeTestServer.Resources;

/// <summary>
/// <c>/v1/subscriptions</c>: create (active at once: no payment step), retrieve, list by customer, update
/// (<c>cancel_at_period_end</c>, metadata) and cancel. One monthly period from creation.
/// </summary>
internal static class SubscriptionEndpoints
{
    public const string Object = "subscription";

    public static void MapSubscriptions(this IEndpointRouteBuilder app)
    {
        app.MapStripe("POST", "/v1/subscriptions", call =>
        {
            if (call.Form.Text("customer") is not { } customer)
            {
                return StripeErrors.Missing("customer");
            }

            if (call.State.Find(CustomerEndpoints.Object, customer) is null)
            {
                return StripeErrors.NotFound("customer", customer, "customer");
            }

            if (call.Form["items"] is not JsonArray { Count: > 0 } items)
            {
                return StripeErrors.Missing("items");
            }

            var now = call.State.Now;
            var subscription = call.NewObject(Object, "sub");
            var data = new JsonArray();
            foreach (var item in items.OfType<JsonObject>())
            {
                if (item.Text("price") is not { } priceId)
                {
                    return StripeErrors.Missing("items[0][price]");
                }

                if (call.State.Find(CatalogEndpoints.Price, priceId) is not { } price)
                {
                    return StripeErrors.NotFound("price", priceId, "items[0][price]");
                }

                var line = call.Fixtures.Create("subscription_item");
                line["id"] = State.StripeIds.New("si");
                line["created"] = now.ToUnixTimeSeconds();
                line["price"] = price;
                // A metered item has no quantity (the meter decides), so Stripe leaves the field out.
                if ((string?)price["recurring"]?["usage_type"] == "metered")
                {
                    line.Remove("quantity");
                }
                else
                {
                    line["quantity"] = 1;
                }

                line["subscription"] = subscription["id"]!.GetValue<string>();
                line["current_period_start"] = now.ToUnixTimeSeconds();
                line["current_period_end"] = now.AddMonths(1).ToUnixTimeSeconds();
                line["metadata"] = new JsonObject();
                data.Add(line);
            }

            subscription["customer"] = customer;
            subscription["status"] = "active";
            subscription["start_date"] = now.ToUnixTimeSeconds();
            subscription["billing_cycle_anchor"] = now.ToUnixTimeSeconds();
            subscription["cancel_at_period_end"] = false;
            subscription["canceled_at"] = null;
            subscription["ended_at"] = null;
            subscription["items"] = new JsonObject { ["object"] = "list", ["data"] = data, ["has_more"] = false, ["url"] = "/v1/subscription_items" };
            call.State.Put(Object, subscription);
            return new StripeJson(subscription);
        });
        app.MapStripe("GET", "/v1/subscriptions/{id}", call =>
            call.State.Find(Object, call.Route("id")) is { } subscription ? new StripeJson(subscription) : StripeErrors.NotFound("subscription", call.Route("id")));
        app.MapStripe("GET", "/v1/subscriptions", call =>
        {
            var customer = call.Form.Text("customer");
            return call.List([.. call.State.All(Object).Where(s => customer is null || (string?)s["customer"] == customer)]);
        });
        app.MapStripe("POST", "/v1/subscriptions/{id}", call =>
            call.State.Update(Object, call.Route("id"), s =>
            {
                if (call.Form.Text("cancel_at_period_end") is { } atEnd)
                {
                    s["cancel_at_period_end"] = atEnd == "true";
                }

                if (call.Form["metadata"] is JsonObject metadata)
                {
                    s["metadata"] = metadata.DeepClone();
                }
            }) is { } subscription ? new StripeJson(subscription) : StripeErrors.NotFound("subscription", call.Route("id")));
        app.MapStripe("DELETE", "/v1/subscriptions/{id}", call =>
            call.State.Update(Object, call.Route("id"), s =>
            {
                s["status"] = "canceled";
                s["canceled_at"] = call.State.NowSeconds;
                s["ended_at"] = call.State.NowSeconds;
            }) is { } subscription ? new StripeJson(subscription) : StripeErrors.NotFound("subscription", call.Route("id")));
    }
}
