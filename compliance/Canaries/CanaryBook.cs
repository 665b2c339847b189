using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Gateway.Compliance;

/// <summary>
/// One route's canary for one key on one UTC day: its id, the record as JSON bytes (alone, and with the comma that
/// follows another element), and whether a response has carried it yet.
/// </summary>
public sealed class Canary(string id, string keyId, string customerId, string routeId, long day, byte[] element)
{
    private int _delivered;
    private int _stored;

    public string Id { get; } = id;
    public string KeyId { get; } = keyId;
    public string CustomerId { get; } = customerId;
    public string RouteId { get; } = routeId;

    /// <summary>The UTC day (<see cref="DateOnly.DayNumber"/>).</summary>
    public long Day { get; } = day;

    /// <summary>The record, to close an empty list with.</summary>
    public byte[] Element { get; } = element;

    /// <summary><c>,</c> then the record, to follow the list's last element.</summary>
    public byte[] ElementAfterComma { get; } = [(byte)',', .. element];

    /// <summary>A response carried the canary: the registry must hold it (written by the next flush).</summary>
    public void Delivered()
    {
        if (Volatile.Read(ref _delivered) == 0)
        {
            Volatile.Write(ref _delivered, 1);
        }
    }

    internal bool AwaitsRegistry => Volatile.Read(ref _delivered) == 1 && Volatile.Read(ref _stored) == 0;

    internal void MarkStored() => Volatile.Write(ref _stored, 1);
}

/// <summary>
/// The canaries of the routes that have them (<c>Gateway:Compliance:Routes:{routeId}:Canary</c>): per key and UTC day a
/// synthetic record shaped like the route's, its id derived as HMAC-SHA256(<c>CanarySecret</c>, key id and day), so it
/// is the same on every instance and every response of that key that day, differs for another key or day, and can be
/// neither guessed nor forged without the secret. The proxy inserts it into the list of records of a 2xx JSON
/// response; the registry (<see cref="CanaryTable"/>) then records who received it, written by <see cref="FlushAsync"/>.
/// <para>
/// <b>Ordering rule (cache and registry).</b> A canary is a pure function of (secret, route, key, day): two requests
/// racing to create the same entry make equal values, and whichever <c>GetOrAdd</c> keeps is the one both use. Delivery
/// sets a flag that never clears; the flush writes each delivered, unstored canary (upsert-replace of the same row, so a
/// repeat or a second instance writing it too is harmless) and marks it stored only after the write succeeded. A
/// delivery racing the flush is either seen by it or leaves the flag for the next one. Entries past yesterday that are
/// stored or never delivered are dropped.
/// </para>
/// </summary>
public sealed class CanaryBook(IOptions<ComplianceOptions> options, CanaryTable table, TimeProvider time)
{
    private readonly FrozenDictionary<string, CanaryOptions> _routes = options.Value.Routes
        .Where(r => r.Value.Canary.Enabled)
        .ToFrozenDictionary(r => r.Key, r => r.Value.Canary, StringComparer.Ordinal);

    private readonly byte[] _secret = Encoding.UTF8.GetBytes(options.Value.CanarySecret ?? "");
    private readonly ConcurrentDictionary<(string KeyId, string RouteId, long Day), Canary> _issued = new();

    /// <summary>Any route has canaries.</summary>
    public bool Any => _routes.Count > 0;

    /// <summary>The key's canary on the route today; null when the route has none. Created once per key, route and day.</summary>
    public Canary? For(string routeId, string keyId, string customerId)
    {
        if (!_routes.TryGetValue(routeId, out var settings))
        {
            return null;
        }

        var day = time.GetUtcNow().UtcTicks / TimeSpan.TicksPerDay;
        if (_issued.TryGetValue((keyId, routeId, day), out var canary))
        {
            return canary;
        }

        return _issued.GetOrAdd((keyId, routeId, day), static (k, state) =>
        {
            var id = IdFor(state.Secret, state.Settings, k.KeyId, k.Day);
            return new Canary(id, k.KeyId, state.CustomerId, k.RouteId, k.Day, Element(state.Settings.Template!, id));
        }, (Secret: _secret, Settings: settings, CustomerId: customerId));
    }

    /// <summary>The canary id of a key on a day under these settings: <c>IdPrefix</c> and 16 hex digits (or <c>IdDigits</c> decimal digits) of the HMAC.</summary>
    public static string IdFor(byte[] secret, CanaryOptions settings, string keyId, long day)
    {
        var mac = HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"canary\n{keyId}\n{day}")));
        var value = BinaryPrimitives.ReadUInt64BigEndian(mac);
        var derived = settings.IdDigits == 0
            ? value.ToString("x16", CultureInfo.InvariantCulture)
            : (value % Pow10(settings.IdDigits)).ToString("D" + settings.IdDigits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        return settings.IdPrefix + derived;
    }

    /// <summary>A template is a JSON object with the placeholder where the id goes.</summary>
    public static bool IsTemplate(string template)
    {
        if (!template.Contains(CanaryOptions.Placeholder, StringComparison.Ordinal))
        {
            return false;
        }

        try
        {
            using var parsed = JsonDocument.Parse(Element(template, "0"));
            return parsed.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Writes every delivered canary the registry does not hold yet; answers how many.</summary>
    public async Task<int> FlushAsync(CancellationToken cancellationToken)
    {
        var written = 0;
        foreach (var canary in _issued.Values)
        {
            if (canary.AwaitsRegistry)
            {
                await table.WriteAsync(canary, cancellationToken);
                canary.MarkStored();
                written++;
            }
        }

        var yesterday = time.GetUtcNow().UtcTicks / TimeSpan.TicksPerDay - 1;
        foreach (var (key, canary) in _issued)
        {
            if (key.Day < yesterday && !canary.AwaitsRegistry)
            {
                _issued.TryRemove(key, out _);
            }
        }

        return written;
    }

    private static byte[] Element(string template, string id) =>
        Encoding.UTF8.GetBytes(template.Replace(CanaryOptions.Placeholder, JsonEncodedText.Encode(id).Value, StringComparison.Ordinal));

    private static ulong Pow10(int digits)
    {
        var result = 1UL;
        for (var i = 0; i < digits; i++)
        {
            result *= 10;
        }

        return result;
    }
}
