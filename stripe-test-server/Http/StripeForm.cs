using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gateway.StripeTestServer.Http;

/// <summary>
/// Stripe's bracket notation (<c>payload[value]=5</c>, <c>items[0][price]=price_1</c>, <c>expand[]=x</c>) read into a
/// JSON tree: objects for named brackets, arrays for numeric or empty ones, strings for values, as Stripe sees them.
/// </summary>
public static class StripeForm
{
    /// <summary>Reads a POST body (which must be form-encoded) or a GET/DELETE query string into a tree.</summary>
    public static async Task<(JsonObject? Form, IResult? Problem)> ReadAsync(HttpRequest request)
    {
        if (!HttpMethods.IsPost(request.Method))
        {
            return (Parse(request.Query.SelectMany(p => p.Value.Select(v => (p.Key, v ?? "")))), null);
        }

        if (request.ContentLength is 0 || (request.ContentLength is null && !request.Headers.ContainsKey("Transfer-Encoding")))
        {
            return (new JsonObject(), null);
        }

        if (!request.HasFormContentType || request.ContentType?.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) != true)
        {
            return (null, StripeErrors.Error(
                400,
                StripeErrors.InvalidRequest,
                null,
                $"Invalid request: the body must be application/x-www-form-urlencoded, not '{request.ContentType}'."));
        }

        // Not the request's abort token: a request Stripe received is processed even if the client has gone.
        var form = await request.ReadFormAsync(CancellationToken.None);
        return (Parse(form.SelectMany(p => p.Value.Select(v => (p.Key, v ?? "")))), null);
    }

    public static JsonObject Parse(IEnumerable<(string Key, string Value)> pairs)
    {
        var root = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var (key, value) in pairs)
        {
            var path = Segments(key);
            var node = root;
            for (var i = 0; i < path.Count - 1; i++)
            {
                var segment = path[i] == "" ? node.Count.ToString(CultureInfo.InvariantCulture) : path[i];
                if (!node.TryGetValue(segment, out var child) || child is not Dictionary<string, object> inner)
                {
                    inner = new Dictionary<string, object>(StringComparer.Ordinal);
                    node[segment] = inner;
                }

                node = inner;
            }

            var last = path[^1] == "" ? node.Count.ToString(CultureInfo.InvariantCulture) : path[^1];
            node[last] = value;
        }

        return (JsonObject)ToNode(root);
    }

    private static List<string> Segments(string key)
    {
        var open = key.IndexOf('[', StringComparison.Ordinal);
        if (open < 0)
        {
            return [key];
        }

        var segments = new List<string> { key[..open] };
        var rest = key[open..];
        while (rest.StartsWith('['))
        {
            var close = rest.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                break;
            }

            segments.Add(rest[1..close]);
            rest = rest[(close + 1)..];
        }

        return segments;
    }

    private static JsonNode ToNode(object value)
    {
        if (value is string text)
        {
            return JsonValue.Create(text);
        }

        var map = (Dictionary<string, object>)value;
        if (map.Count > 0 && map.Keys.All(k => int.TryParse(k, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
        {
            var array = new JsonArray();
            foreach (var item in map.OrderBy(p => int.Parse(p.Key, CultureInfo.InvariantCulture)))
            {
                array.Add(ToNode(item.Value));
            }

            return array;
        }

        var obj = new JsonObject();
        foreach (var (k, v) in map)
        {
            obj[k] = ToNode(v);
        }

        return obj;
    }
}

/// <summary>Typed reads of a form tree, each answering Stripe's error for a missing or malformed parameter.</summary>
public static class FormReads
{
    public static string? Text(this JsonObject form, string name) =>
        form[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    public static string? Text(this JsonObject form, string parent, string name) =>
        form[parent] is JsonObject inner ? inner.Text(name) : null;

    public static bool TryLong(this JsonObject form, string name, out long? value, out IResult? problem)
    {
        value = null;
        problem = null;
        if (form.Text(name) is not { } text)
        {
            return true;
        }

        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed))
        {
            value = parsed;
            return true;
        }

        problem = StripeErrors.Invalid(name, $"Invalid integer: {text}");
        return false;
    }

    public static IEnumerable<string> Texts(this JsonObject form, string name) =>
        form[name] switch
        {
            JsonArray array => array.OfType<JsonValue>().Select(v => v.GetValue<string>()),
            JsonValue value => [value.GetValue<string>()],
            _ => [],
        };

    public static StringValues ExpandList(this JsonObject form) => new([.. form.Texts("expand")]);
}
