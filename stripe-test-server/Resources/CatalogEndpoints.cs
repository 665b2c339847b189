using System.Text.Json.Nodes;
using Gateway.StripeTestServer.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.StripeTestServer.Resources;

/// <summary><c>/v1/products</c> and <c>/v1/prices</c>: create, retrieve, list; prices found by <c>lookup_keys</c>.</summary>
internal static class CatalogEndpoints
{
    public const string Product = "product";
    public const string Price = "price";

    public static void MapCatalog(this IEndpointRouteBuilder app)
    {
        app.MapStripe("POST", "/v1/products", call =>
        {
            if (call.Form.Text("name") is not { } name)
            {
                return StripeErrors.Missing("name");
            }

            var product = call.NewObject(Product, "prod");
            if (call.Form.Text("id") is { } id)
            {
                if (call.State.Find(Product, id) is not null)
                {
                    return StripeErrors.AlreadyExists("id", $"Product already exists: {id}");
                }

                product["id"] = id;
            }

            product["name"] = name;
            product["description"] = call.Form.Text("description");
            product["default_price"] = null;
            product["active"] = call.Form.Text("active") != "false";
            product["updated"] = call.State.NowSeconds;
            call.State.Put(Product, product);
            return new StripeJson(product);
        });
        app.MapStripe("GET", "/v1/products/{id}", call =>
            call.State.Find(Product, call.Route("id")) is { } product ? new StripeJson(product) : StripeErrors.NotFound("product", call.Route("id")));
        app.MapStripe("GET", "/v1/products", call => call.List(call.State.All(Product)));

        app.MapStripe("POST", "/v1/prices", call =>
        {
            if (call.Form.Text("currency") is not { } currency)
            {
                return StripeErrors.Missing("currency");
            }

            if (call.Form.Text("product") is not { } productId)
            {
                return StripeErrors.Missing("product");
            }

            if (call.State.Find(Product, productId) is null)
            {
                return StripeErrors.NotFound("product", productId, "product");
            }

            if (!call.Form.TryLong("unit_amount", out var unitAmount, out var problem))
            {
                return problem!;
            }

            var lookupKey = call.Form.Text("lookup_key");
            var holder = lookupKey is null ? null : call.State.All(Price).FirstOrDefault(p => (string?)p["lookup_key"] == lookupKey);
            if (holder is not null && call.Form.Text("transfer_lookup_key") != "true")
            {
                return StripeErrors.AlreadyExists("lookup_key", $"A price (`{holder["id"]}`) already uses that lookup key.");
            }

            var price = call.NewObject(Price, "price");
            price["currency"] = currency;
            price["product"] = productId;
            price["unit_amount"] = unitAmount;
            price["unit_amount_decimal"] = call.Form.Text("unit_amount_decimal") ?? unitAmount?.ToString(System.Globalization.CultureInfo.InvariantCulture);
            price["lookup_key"] = lookupKey;
            price["nickname"] = call.Form.Text("nickname");
            price["active"] = true;
            price["billing_scheme"] = call.Form.Text("billing_scheme") ?? "per_unit";
            if (call.Form["recurring"] is JsonObject recurring)
            {
                if (recurring.Text("interval") is not { } interval)
                {
                    return StripeErrors.Missing("recurring[interval]");
                }

                price["type"] = "recurring";
                price["recurring"] = new JsonObject
                {
                    ["interval"] = interval,
                    ["interval_count"] = int.Parse(recurring.Text("interval_count") ?? "1", System.Globalization.CultureInfo.InvariantCulture),
                    ["usage_type"] = recurring.Text("usage_type") ?? "licensed",
                    ["meter"] = recurring.Text("meter"),
                    ["trial_period_days"] = null,
                };
            }
            else
            {
                price["type"] = "one_time";
                price["recurring"] = null;
            }

            if (holder is not null)
            {
                call.State.Update(Price, (string)holder["id"]!, p => p["lookup_key"] = null);
            }

            call.State.Put(Price, price);
            return new StripeJson(price);
        });
        app.MapStripe("GET", "/v1/prices/{id}", call =>
            call.State.Find(Price, call.Route("id")) is { } price ? new StripeJson(price) : StripeErrors.NotFound("price", call.Route("id")));
        app.MapStripe("GET", "/v1/prices", call =>
        {
            var lookupKeys = call.Form.Texts("lookup_keys").ToHashSet(StringComparer.Ordinal);
            var product = call.Form.Text("product");
            var active = call.Form.Text("active");
            return call.List([.. call.State.All(Price).Where(p =>
                (lookupKeys.Count == 0 || lookupKeys.Contains((string?)p["lookup_key"] ?? ""))
                && (product is null || (string?)p["product"] == product)
                && (active is null || (bool?)p["active"] == (active == "true")))]);
        });
    }
}
