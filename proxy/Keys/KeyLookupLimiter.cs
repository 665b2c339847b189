using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Gateway.Core;

namespace Gateway.Proxy.Keys;

/// <summary>
/// Bounds the storage reads that keys not in memory cause: a token bucket per client network
/// (<see cref="ClientNetwork"/>), chained with one for the whole instance
/// (<see cref="KeyOptions.UnknownKeyReadsPerSecondPerNetwork"/>, <see cref="KeyOptions.UnknownKeyReadsPerSecond"/>).
/// A network is charged first, so a network over its own limit cannot drain the instance's budget for everyone else.
/// Consulted only on the uncached path; a cached key never gets here.
/// </summary>
public sealed class KeyLookupLimiter : IDisposable
{
    /// <summary>Buckets refill every second: what a refused caller is told to wait.</summary>
    public const int RetryAfterSeconds = 1;

    private readonly PartitionedRateLimiter<IPAddress?> _limiter;

    public KeyLookupLimiter(KeyOptions options)
    {
        var perNetwork = Bucket(options.UnknownKeyReadsPerSecondPerNetwork);
        var total = Bucket(options.UnknownKeyReadsPerSecond);
        Func<ClientNetwork, TokenBucketRateLimiterOptions> networkBucket = _ => perNetwork;
        Func<bool, TokenBucketRateLimiterOptions> totalBucket = _ => total;
        _limiter = PartitionedRateLimiter.CreateChained(
            PartitionedRateLimiter.Create<IPAddress?, ClientNetwork>(client => RateLimitPartition.GetTokenBucketLimiter(ClientNetwork.Of(client), networkBucket)),
            PartitionedRateLimiter.Create<IPAddress?, bool>(_ => RateLimitPartition.GetTokenBucketLimiter(true, totalBucket)));
    }

    /// <summary>Takes one storage read for <paramref name="client"/>'s network, if both its network and the instance have one left.</summary>
    public bool TryAcquire(IPAddress? client)
    {
        using var lease = _limiter.AttemptAcquire(client);
        return lease.IsAcquired;
    }

    public void Dispose() => _limiter.Dispose();

    /// <summary>Refills <paramref name="perSecond"/> tokens every second, holding at most a second's worth.</summary>
    private static TokenBucketRateLimiterOptions Bucket(int perSecond) => new()
    {
        TokenLimit = perSecond,
        TokensPerPeriod = perSecond,
        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
        QueueLimit = 0,
    };
}

/// <summary>
/// The network a client address belongs to, as rate limits see it: the /24 of an IPv4 address (IPv4-mapped IPv6
/// included) and the /64 of an IPv6 address, the smallest block one subscriber usually holds. No address (not a
/// TCP connection) is a network of its own.
/// </summary>
public readonly record struct ClientNetwork(ulong Prefix, AddressFamily Family)
{
    public static ClientNetwork Of(IPAddress? address)
    {
        if (address is null)
        {
            return default;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        Span<byte> bytes = stackalloc byte[16];
        if (address.AddressFamily == AddressFamily.InterNetwork && address.TryWriteBytes(bytes, out _))
        {
            return new(BinaryPrimitives.ReadUInt32BigEndian(bytes) & 0xFFFF_FF00u, AddressFamily.InterNetwork);
        }

        return address.TryWriteBytes(bytes, out _)
            ? new(BinaryPrimitives.ReadUInt64BigEndian(bytes), AddressFamily.InterNetworkV6)
            : default;
    }
}
