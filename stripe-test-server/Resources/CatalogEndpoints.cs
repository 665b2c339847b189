using System.Text.Json.Nodes;
using Gateway.StripeTestServer.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.StripeTestServer.Resources;

/// <summary>
/// <c>/v1/products</c> (create with or without an id, update name and active, retrieve, list) and <c>/v1/prices</c>
/// (create, per unit or tiered, retrieve, list; found by <c>lookup_keys</c>; tiers are always returned, as Stripe
/// returns them with <c>expand[]=data.tiers</c>).
/// </summary>
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
        app.MapStripe("POST", "/v1/products/{id}", call =>
        {
            var id = call.Route("id");
            if (call.State.Find(Product, id) is null)
            {
                return StripeErrors.NotFound("product", id);
            }

            var updated = call.State.Update(Product, id, p =>
            {
                if (call.Form.Text("name") is { } name)
                {
                    p["name"] = name;
                }

                if (call.Form.Text("active") is { } active)
                {
                    p["active"] = active == "true";
                }

                p["updated"] = call.State.NowSeconds;
            });
            return new StripeJson(updated!);
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
            price["tiers_mode"] = call.Form.Text("tiers_mode");
            if ((string?)price["billing_scheme"] == "tiered")
            {
                if (call.Form["tiers"] is not JsonArray { Count: > 0 } tiers || price["tiers_mode"] is null)
                {
                    return StripeErrors.Missing(price["tiers_mode"] is null ? "tiers_mode" : "tiers");
                }

                // Stored as Stripe answers them with expand[]=data.tiers: up_to null for the last ("inf") tier.
                var stored = new JsonArray();
                foreach (var tier in tiers.OfType<JsonObject>())
                {
                    var upTo = tier.Text("up_to");
                    stored.Add(new JsonObject
                    {
                        ["up_to"] = upTo is null or "inf" ? null : long.Parse(upTo, System.Globalization.CultureInfo.InvariantCulture),
                        ["unit_amount"] = tier.Text("unit_amount") is { } unit ? long.Parse(unit, System.Globalization.CultureInfo.InvariantCulture) : null,
                        ["unit_amount_decimal"] = tier.Text("unit_amount_decimal") ?? tier.Text("unit_amount"),
                        ["flat_amount"] = null,
                        ["flat_amount_decimal"] = null,
                    });
                }

                price["tiers"] = stored;
            }

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
