using System.Text.Json.Nodes;

namespace Gateway.StripeTestServer;

/// <summary>
/// Stripe's own example object per resource (<c>fixtures3.json</c>, <c>resources.&lt;object&gt;</c>): every response
/// starts from a deep copy of the fixture, so it has every field Stripe.net expects, and the server then sets the
/// fields its state knows (id, created, customer, amounts...).
/// </summary>
public sealed class StripeFixtures
{
    private readonly JsonObject _resources;

    private StripeFixtures(JsonObject resources) => _resources = resources;

    /// <summary>The copy shipped beside the assembly.</summary>
    public static string DefaultPath => Path.Combine(AppContext.BaseDirectory, "Fixtures", "fixtures3.json");

    public static StripeFixtures Load(string? path)
    {
        path ??= DefaultPath;
        var root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject;
        var resources = root?["resources"] as JsonObject
            ?? throw new InvalidDataException($"{path} is not Stripe's fixtures3.json: it has no 'resources' object.");
        return new StripeFixtures(resources);
    }

    /// <summary>A fresh copy of the fixture of <paramref name="objectName"/> (e.g. <c>billing.meter_event</c>).</summary>
    public JsonObject Create(string objectName) =>
        _resources[objectName]?.DeepClone() as JsonObject
        ?? throw new KeyNotFoundException($"fixtures3.json has no resource '{objectName}'.");
}
