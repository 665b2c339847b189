using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Infra;

/// <summary>
/// One template of the compiled <c>infra/main.bicep</c> (<see cref="BicepCli.Main"/>): a module is a nested
/// deployment whose <c>properties.template</c> is the module compiled. Values are read as Bicep wrote them; ARM
/// expressions (strings in <c>[...]</c>) are not evaluated, except a plain <c>[variables('x')]</c>.
/// </summary>
internal sealed partial class ArmTemplate(JsonObject template, string source)
{
    /// <summary>Where the template comes from, for failure messages (<c>infra/modules/gateway.bicep</c>).</summary>
    public string Source { get; } = source;

    /// <summary>The module deployed as <c>name: '<paramref name="deploymentName"/>'</c> in main.bicep.</summary>
    public static ArmTemplate Module(string deploymentName, string source)
    {
        var main = new ArmTemplate(BicepCli.Main, "infra/main.bicep");
        var deployment = main.Resource("Microsoft.Resources/deployments", deploymentName);
        return new ArmTemplate(Child(deployment, ["properties", "template"], source).AsObject(), source);
    }

    /// <summary>The one resource of <paramref name="type"/> (any API version), or of that type and name.</summary>
    public JsonObject Resource(string type, string? name = null)
    {
        var resources = template["resources"] switch
        {
            JsonArray array => array.Select(r => r!.AsObject()),
            JsonObject bySymbolicName => bySymbolicName.Select(r => r.Value!.AsObject()),
            _ => [],
        };
        var matches = resources
            .Where(r => string.Equals((string?)r["type"], type, StringComparison.OrdinalIgnoreCase))
            .Where(r => name is null || (string?)r["name"] == name)
            .ToList();
        return matches.Count == 1
            ? matches[0]
            : throw new InvalidOperationException($"{Source}: expected one {type}{(name is null ? "" : $" named '{name}'")}, found {matches.Count}.");
    }

    /// <summary>
    /// The literal array at <paramref name="path"/> under <paramref name="node"/>, also when Bicep wrote an expression
    /// over one array variable there (<c>empty(image) ? [] : probes</c>): then that variable's array.
    /// </summary>
    public IReadOnlyList<JsonObject> Objects(JsonNode node, params string[] path)
    {
        var value = Child(node, path, Source);
        if (value is JsonValue expression && expression.GetValueKind() == JsonValueKind.String)
        {
            var arrays = VariableReference().Matches((string)expression!)
                .Select(m => m.Groups["name"].Value)
                .Distinct(StringComparer.Ordinal)
                .Where(v => template["variables"]?[v] is JsonArray)
                .ToList();
            value = arrays.Count == 1
                ? template["variables"]![arrays[0]]
                : throw new InvalidOperationException($"{Source}: {string.Join('.', path)} is the expression {expression}, not a literal array or an expression over one array variable. Keep it literal so the Infra tests can read it.");
        }

        return value is JsonArray array && array.All(e => e is JsonObject)
            ? [.. array.Select(e => e!.AsObject())]
            : throw new InvalidOperationException($"{Source}: {string.Join('.', path)} is not an array of objects: {value?.ToJsonString()}");
    }

    /// <summary>The entry's <c>name</c>, which must be a literal (an expression cannot be checked against the code).</summary>
    public string LiteralName(JsonObject entry) =>
        entry["name"] is JsonValue name && name.GetValueKind() == JsonValueKind.String && !IsExpression((string)name!)
            ? (string)name!
            : throw new InvalidOperationException($"{Source}: names must be plain literals, found {entry.ToJsonString()}");

    /// <summary>The value, with a plain <c>[variables('x')]</c> replaced by the variable's value.</summary>
    public JsonNode? Resolve(JsonNode? value) =>
        value is JsonValue v && v.GetValueKind() == JsonValueKind.String && PlainVariable().Match((string)v!) is { Success: true } m
            ? template["variables"]?[m.Groups["name"].Value]
            : value;

    /// <summary>
    /// The literal text a string value starts with: the string itself, or the format string of the
    /// <c>format('...', ...)</c> Bicep compiles an interpolated string to; empty for any other expression.
    /// </summary>
    public static string LiteralStart(JsonNode? value)
    {
        if (value is not JsonValue v || v.GetValueKind() != JsonValueKind.String)
        {
            return "";
        }

        var text = (string)v!;
        return text switch
        {
            _ when text.StartsWith("[[", StringComparison.Ordinal) => text[1..],
            _ when text.StartsWith("[format('", StringComparison.Ordinal) => text["[format('".Length..],
            _ when IsExpression(text) => "",
            _ => text,
        };
    }

    private static bool IsExpression(string value) => value.StartsWith('[') && !value.StartsWith("[[", StringComparison.Ordinal);

    private static JsonNode Child(JsonNode node, string[] path, string source)
    {
        var current = node;
        foreach (var segment in path)
        {
            current = current is JsonObject o && o[segment] is { } next
                ? next
                : throw new InvalidOperationException($"{source}: no '{segment}' on the way to {string.Join('.', path)}.");
        }

        return current;
    }

    [GeneratedRegex(@"variables\('(?<name>[^']+)'\)")]
    private static partial Regex VariableReference();

    [GeneratedRegex(@"^\[variables\('(?<name>[^']+)'\)\]$")]
    private static partial Regex PlainVariable();
}
