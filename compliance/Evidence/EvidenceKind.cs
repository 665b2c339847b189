namespace Gateway.Compliance;

/// <summary>What a recorded request was, as evidence counts it.</summary>
public enum EvidenceKind
{
    /// <summary>A call the gateway forwarded (whatever the upstream answered).</summary>
    Call,

    /// <summary>A call to a route group outside the key's licence (refused 403).</summary>
    UnlicensedRoute,

    /// <summary>A call with the key after it was revoked or suspended (refused 401/402).</summary>
    AfterRevocation,

    /// <summary>A call refused because the key's monthly quota was used up (blocking plans, 429).</summary>
    QuotaRefusal,
}

/// <summary>
/// A client network as evidence stores it: the /24 of an IPv4 address with bit 63 set, or the /64 of an IPv6 address.
/// One <see cref="ulong"/>, so a request costs no allocation and a row holds hundreds.
/// </summary>
public static class EvidenceNetwork
{
    private const ulong IPv4 = 1UL << 63;

    public static ulong OfIPv4(uint prefix24) => IPv4 | prefix24;

    public static ulong OfIPv6(ulong prefix64) => prefix64;

    /// <summary>The network as people write it: <c>203.0.113.0/24</c>, <c>2001:db8:1:2::/64</c>.</summary>
    public static string Describe(ulong network)
    {
        if ((network & IPv4) != 0 && network >> 32 == IPv4 >> 32)
        {
            var p = (uint)network;
            return $"{p >> 24}.{(p >> 16) & 0xFF}.{(p >> 8) & 0xFF}.0/24";
        }

        Span<byte> bytes = stackalloc byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(bytes, network);
        return new System.Net.IPAddress(bytes) + "/64";
    }
}
