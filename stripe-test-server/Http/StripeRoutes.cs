using System.Text.Json.Nodes;
using Gateway.StripeTestServer.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.StripeTestServer.Http;

/// <summary>The context an endpoint works with: the parsed form (or query), the state, the fixtures and the route values.</summary>
public sealed record StripeCall(JsonObject Form, StripeState State, StripeFixtures Fixtures, HttpContext Http)
{
    public string Route(string name) => (string)Http.Request.RouteValues[name]!;

    /// <summary>A fresh object from the fixture with a new id, <c>created</c> now, test mode and empty metadata.</summary>
    public JsonObject NewObject(string objectName, string idPrefix)
    {
        var value = Fixtures.Create(objectName);
        value["id"] = StripeIds.New(idPrefix);
        value["created"] = State.NowSeconds;
        value["livemode"] = false;
        if (value.ContainsKey("metadata"))
        {
            value["metadata"] = Form["metadata"]?.DeepClone() ?? new JsonObject();
        }

        return value;
    }

    /// <summary>Stripe's list envelope with <c>limit</c> (1-100, default 10) and <c>starting_after</c> paging.</summary>
    public IResult List(IReadOnlyList<JsonObject> items)
    {
        if (!Form.TryLong("limit", out var limit, out var problem))
        {
            return problem!;
        }

        if (limit is < 1 or > 100)
        {
            return StripeErrors.Invalid("limit", "This value must be between 1 and 100.");
        }

        var start = 0;
        if (Form.Text("starting_after") is { } after)
        {
            var index = items.ToList().FindIndex(i => (string?)i["id"] == after);
            if (index < 0)
            {
                return StripeErrors.NotFound("object", after, "starting_after");
            }

            start = index + 1;
        }

        var page = items.Skip(start).Take((int)(limit ?? 10)).ToList();
        return new StripeJson(new JsonObject
        {
            ["object"] = "list",
            ["data"] = new JsonArray([.. page.Select(JsonNode (p) => p)]),
            ["has_more"] = start + page.Count < items.Count,
            ["url"] = Http.Request.Path.Value,
        });
    }
}

internal static class StripeRoutes
{
    /// <summary>Maps a Stripe operation: the form (or query) is read with Stripe's bracket notation before the handler runs.</summary>
    public static void MapStripe(this IEndpointRouteBuilder app, string method, string pattern, Func<StripeCall, IResult> handler) =>
        app.MapMethods(pattern, [method], async (HttpContext http, StripeState state, StripeFixtures fixtures) =>
        {
            var (form, problem) = await StripeForm.ReadAsync(http.Request);
            return problem ?? handler(new StripeCall(form!, state, fixtures, http));
        });
}
