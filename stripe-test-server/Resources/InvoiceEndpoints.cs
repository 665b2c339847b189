using System.Globalization;
using System.Text.Json.Nodes;
using Gateway.StripeTestServer.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.StripeTestServer.Resources;

/// <summary>
/// Invoice previews for a customer's active subscription (<c>POST /v1/invoices/create_preview</c>, and the older
/// <c>GET /v1/invoices/upcoming</c>): one line per subscription item, a licensed price once, a metered price times
/// the meter's value in the current period (from the meter events accepted so far). No tax, discounts or tiers.
/// </summary>
internal static class InvoiceEndpoints
{
    private static readonly string[] TotalFields = ["amount_due", "amount_remaining", "subtotal", "subtotal_excluding_tax", "total", "total_excluding_tax"];

    public static void MapInvoices(this IEndpointRouteBuilder app)
    {
        app.MapStripe("POST", "/v1/invoices/create_preview", Preview);
        app.MapStripe("GET", "/v1/invoices/upcoming", Preview);
    }

    private static Microsoft.AspNetCore.Http.IResult Preview(StripeCall call)
    {
        var customer = call.Form.Text("customer");
        var subscriptionId = call.Form.Text("subscription");
        if (customer is null && subscriptionId is null)
        {
            return StripeErrors.Missing("customer");
        }

        var subscription = subscriptionId is not null
            ? call.State.Find(SubscriptionEndpoints.Object, subscriptionId)
            : call.State.All(SubscriptionEndpoints.Object).LastOrDefault(s => (string?)s["customer"] == customer && (string?)s["status"] == "active");
        if (subscription is null)
        {
            return StripeErrors.Error(404, StripeErrors.InvalidRequest, "invoice_upcoming_none", "No upcoming invoices for customer: " + customer);
        }

        customer = (string)subscription["customer"]!;
        var invoice = call.Fixtures.Create("invoice");
        var lines = new JsonArray();
        long total = 0;
        long periodStart = 0, periodEnd = 0;
        foreach (var item in subscription["items"]!["data"]!.AsArray().OfType<JsonObject>())
        {
            var price = (JsonObject)item["price"]!;
            periodStart = (long)item["current_period_start"]!;
            periodEnd = (long)item["current_period_end"]!;
            var unitAmount = (long?)price["unit_amount"] ?? 0;
            long quantity = 1;
            if ((string?)price["recurring"]?["usage_type"] == "metered" && (string?)price["recurring"]?["meter"] is { } meterId
                && call.State.Find(MeterEndpoints.Meter, meterId) is { } meter)
            {
                quantity = (long)call.State.Summaries(meter, customer, DateTimeOffset.FromUnixTimeSeconds(periodStart), DateTimeOffset.FromUnixTimeSeconds(periodEnd), hourly: false)
                    .Sum(s => s.Value);
            }

            var line = call.Fixtures.Create("line_item");
            line["id"] = State.StripeIds.New("il_tmp");
            line["invoice"] = null;
            line["amount"] = unitAmount * quantity;
            line["subtotal"] = unitAmount * quantity;
            line["quantity"] = quantity;
            line["currency"] = (string?)price["currency"];
            line["description"] = $"{quantity.ToString(CultureInfo.InvariantCulture)} × {price["nickname"] ?? price["id"]}";
            line["period"] = new JsonObject { ["start"] = periodStart, ["end"] = periodEnd };
            line["pricing"] = new JsonObject
            {
                ["type"] = "price_details",
                ["price_details"] = new JsonObject { ["price"] = (string?)price["id"], ["product"] = (string?)price["product"] },
                ["unit_amount_decimal"] = unitAmount.ToString(CultureInfo.InvariantCulture),
            };
            lines.Add(line);
            total += unitAmount * quantity;
        }

        invoice["id"] = null;
        invoice["object"] = "invoice";
        invoice["created"] = call.State.NowSeconds;
        invoice["livemode"] = false;
        invoice["customer"] = customer;
        invoice["status"] = "draft";
        invoice["currency"] = (string?)lines.FirstOrDefault()?["currency"] ?? "usd";
        invoice["lines"] = new JsonObject { ["object"] = "list", ["data"] = lines, ["has_more"] = false, ["url"] = "/v1/invoices/upcoming/lines" };
        foreach (var field in TotalFields)
        {
            invoice[field] = total;
        }

        invoice["amount_paid"] = 0;
        invoice["period_start"] = periodStart;
        invoice["period_end"] = periodEnd;
        return new StripeJson(invoice);
    }
}
