using System.Text.Json.Nodes;
using Gateway.StripeTestServer.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.StripeTestServer.Resources;

/// <summary><c>/v1/customers</c>: create, retrieve, update, list (by e-mail), delete.</summary>
internal static class CustomerEndpoints
{
    public const string Object = "customer";
    private static readonly string[] UpdatableFields = ["email", "name", "description"];

    public static void MapCustomers(this IEndpointRouteBuilder app)
    {
        app.MapStripe("POST", "/v1/customers", call =>
        {
            var customer = call.NewObject(Object, "cus");
            customer["email"] = call.Form.Text("email");
            customer["name"] = call.Form.Text("name");
            customer["description"] = call.Form.Text("description");
            customer["balance"] = 0;
            customer["delinquent"] = false;
            call.State.Put(Object, customer);
            return new StripeJson(customer);
        });
        app.MapStripe("GET", "/v1/customers/{id}", call =>
            call.State.Find(Object, call.Route("id")) is { } customer ? new StripeJson(customer) : StripeErrors.NotFound("customer", call.Route("id")));
        app.MapStripe("POST", "/v1/customers/{id}", call =>
            call.State.Update(Object, call.Route("id"), c =>
            {
                foreach (var field in UpdatableFields)
                {
                    if (call.Form.Text(field) is { } value)
                    {
                        c[field] = value;
                    }
                }

                if (call.Form["metadata"] is JsonObject metadata)
                {
                    var merged = c["metadata"] as JsonObject ?? [];
                    foreach (var (key, value) in metadata)
                    {
                        merged[key] = value?.DeepClone();
                    }

                    c["metadata"] = merged;
                }
            }) is { } customer ? new StripeJson(customer) : StripeErrors.NotFound("customer", call.Route("id")));
        app.MapStripe("DELETE", "/v1/customers/{id}", call =>
            call.State.Update(Object, call.Route("id"), c => c["deleted"] = true) is not null
                ? new StripeJson(new JsonObject { ["id"] = call.Route("id"), ["object"] = Object, ["deleted"] = true })
                : StripeErrors.NotFound("customer", call.Route("id")));
        app.MapStripe("GET", "/v1/customers", call =>
        {
            var email = call.Form.Text("email");
            return call.List([.. call.State.All(Object).Where(c => c["deleted"] is null && (email is null || (string?)c["email"] == email))]);
        });
    }
}
