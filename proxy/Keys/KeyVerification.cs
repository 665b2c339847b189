using Gateway.Core.Keys;
using Gateway.Proxy.Problems;

namespace Gateway.Proxy.Keys;

/// <summary>
/// What verifying a presented key found: the <see cref="Caller"/> when a record matched it (from memory or storage),
/// and the <see cref="Rejection"/> when the call must be refused. A verified key has no rejection. A suspended key
/// is refused with an outcome that is counted (<see cref="Rejections.CountedAs"/>) and may still read its own usage;
/// every other refusal of a key (missing, malformed, unknown, revoked, over the lookup limit) is counted as nothing
/// and comes before anything else (<see cref="RefusesKey"/>).
/// </summary>
public readonly record struct KeyVerification(ApiCaller? Caller, Rejection? Rejection)
{
    public static readonly KeyVerification Missing = new(null, Problems.Rejection.MissingKey);
    public static readonly KeyVerification Malformed = new(null, Problems.Rejection.MalformedKey);
    public static readonly KeyVerification Unknown = new(null, Problems.Rejection.UnknownKey);
    public static readonly KeyVerification LookupLimited = new(null, Problems.Rejection.TooManyKeyLookups);

    /// <summary>A key in memory whose last successful read is older than <c>Gateway:Keys:MaxStaleness</c>: 503, not counted.</summary>
    public static readonly KeyVerification Stale = new(null, Problems.Rejection.StorageUnavailable);

    /// <summary>The key is known and active: the call may go on to the plan's checks.</summary>
    public bool IsVerified => Caller is not null && Rejection is null;

    /// <summary>
    /// True when the key itself is refused, so nothing else is looked at: a rejection that is not counted. False for a
    /// verified key, and for a suspended one, which has a <see cref="Caller"/> to count its refusal against.
    /// </summary>
    public bool RefusesKey(out Rejection rejection)
    {
        rejection = Rejection.GetValueOrDefault();
        return Rejection is { } refused && refused.CountedAs() is null;
    }

    /// <summary>The <c>Retry-After</c> the rejection carries: the lookup limit's, and 1 s for a key too stale to serve.</summary>
    public int RetryAfterSeconds => Rejection switch
    {
        Problems.Rejection.TooManyKeyLookups => KeyLookupLimiter.RetryAfterSeconds,
        Problems.Rejection.StorageUnavailable => 1,
        _ => 0,
    };

    /// <param name="now">A <see cref="TimeProvider"/> timestamp: a rotated key past its expiry is refused as revoked.</param>
    public static KeyVerification Of(ApiCaller caller, long now) => caller.Status switch
    {
        ApiKeyStatus.Active when now >= caller.ExpiresAt => new(caller, Problems.Rejection.RevokedKey),
        ApiKeyStatus.Active => new(caller, null),
        ApiKeyStatus.Suspended => new(caller, Problems.Rejection.Suspended),
        _ => new(caller, Problems.Rejection.RevokedKey),
    };
}
