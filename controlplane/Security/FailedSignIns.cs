using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Gateway.ControlPlane.Audit;
using Gateway.ControlPlane.Http;
using Gateway.Core.Problems;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Gateway.ControlPlane.Security;

/// <summary>
/// Failed sign-ins: each is written to the audit log (never the credential) and charged to its source address in a
/// fixed one-minute window of <see cref="SignInOptions.FailedSignInsPerMinute"/> (System.Threading.RateLimiting, ASP.NET's rate
/// limiter). Only failures are charged, so successful sign-ins never use the allowance up. Once an address has none
/// left, every request from it that presents a bearer token is refused with 429 <c>too-many-sign-ins</c> and
/// <c>Retry-After</c> before its token is checked: checking it would tell a guesser which guess was right.
/// Ordering: the count is the limiter's own (thread-safe; each failure takes one permit, concurrent failures never
/// lose one). The check does not reserve a permit, so attempts already past the check when the last permit goes are
/// still checked: at most the requests in flight from one address get past the limit, never more per window.
/// </summary>
public sealed class FailedSignIns : IDisposable
{
    /// <summary>The item a locked-out request carries, for the challenge to answer 429 rather than 401.</summary>
    private static readonly object LockedOutItem = new();

    private readonly PartitionedRateLimiter<IPAddress> _limiter;
    private readonly AuditLog _audit;

    public FailedSignIns(IOptions<SignInOptions> options, AuditLog audit)
    {
        _audit = audit;
        var perMinute = options.Value.FailedSignInsPerMinute;
        // A fixed window, not a token bucket: a bucket refills continuously, and the probe for "none left" (a request
        // for zero permits) succeeds as soon as a fraction of a permit has come back.
        var window = new FixedWindowRateLimiterOptions
        {
            PermitLimit = perMinute,
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
        };
        _limiter = PartitionedRateLimiter.Create<IPAddress, IPAddress>(address => RateLimitPartition.GetFixedWindowLimiter(address, _ => window));
    }

    /// <summary>The problem a locked-out address gets.</summary>
    public static ApiProblem TooMany { get; } = new(ProblemTypes.TooManySignIns, 429,
        "Too many failed sign-ins from your address; wait for Retry-After seconds before trying again.");

    /// <summary>
    /// Whether the request's address has no failed sign-ins left; if so the request is marked, so that its challenge
    /// answers 429 with <c>Retry-After</c> (whole seconds, at least 1).
    /// </summary>
    public bool IsLockedOut(HttpContext context)
    {
        using var lease = _limiter.AttemptAcquire(Source(context), permitCount: 0);
        if (lease.IsAcquired)
        {
            return false;
        }

        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
        context.Items[LockedOutItem] = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        return true;
    }

    /// <summary>Charges a failed sign-in to the request's address and records it (the scheme and why, never the credential).</summary>
    public Task RecordAsync(HttpContext context, string scheme, string reason)
    {
        using (_limiter.AttemptAcquire(Source(context)))
        {
        }

        return _audit.RecordFailedSignInAsync(context, scheme, reason);
    }

    /// <summary>Writes 429 <c>too-many-sign-ins</c> if the request was found locked out; false if it was not.</summary>
    public static async Task<bool> TryWriteLockedOutAsync(HttpContext context)
    {
        if (context.Items[LockedOutItem] is not int seconds)
        {
            return false;
        }

        if (!context.Response.HasStarted)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            await ProblemResults.From(TooMany).ExecuteAsync(context);
        }

        return true;
    }

    public void Dispose() => _limiter.Dispose();

    /// <summary>The address a failure is charged to; IPv4-mapped IPv6 as IPv4, no address (not TCP) as one shared source.</summary>
    private static IPAddress Source(HttpContext context) =>
        context.Connection.RemoteIpAddress is { } address ? (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address) : IPAddress.None;
}
