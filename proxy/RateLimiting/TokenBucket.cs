namespace Gateway.Proxy.RateLimiting;

/// <summary>The answer to "may this call go now?", with what the rate-limit headers report.</summary>
public readonly record struct RateLimitDecision(bool Allowed, int Remaining, int SecondsUntilFull, int RetryAfterSeconds);

/// <summary>
/// A token bucket per API key: <c>Burst</c> tokens, refilled at <c>RequestsPerSecond</c>. Refill is computed from
/// timestamps when a call arrives, so a bucket needs no timer and costs nothing while idle; 100,000 keys are
/// 100,000 small objects. We do not use System.Threading.RateLimiting here: the response headers need the
/// bucket's state on every call, which its limiters only expose by allocating a statistics object.
/// </summary>
public sealed class TokenBucket
{
    private readonly Lock _gate = new();
    private readonly double _tokensPerTick;
    private readonly double _capacity;
    private readonly double _ticksPerSecond;
    private double _tokens;
    private long _lastRefill;

    public TokenBucket(double requestsPerSecond, int burst, long now, long ticksPerSecond)
    {
        _ticksPerSecond = ticksPerSecond;
        _tokensPerTick = requestsPerSecond / ticksPerSecond;
        _capacity = burst;
        _tokens = burst;
        _lastRefill = now;
        Capacity = burst;
        CapacityHeaderValue = burst.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public int Capacity { get; }

    /// <summary><see cref="Capacity"/> formatted once, for the <c>X-RateLimit-Limit</c> header of every response.</summary>
    public string CapacityHeaderValue { get; }

    /// <summary>Takes one token if there is one. <paramref name="now"/> is a <see cref="TimeProvider.GetTimestamp"/>.</summary>
    public RateLimitDecision TryTake(long now)
    {
        lock (_gate)
        {
            Refill(now);
            if (_tokens >= 1)
            {
                _tokens -= 1;
                return new RateLimitDecision(true, (int)_tokens, SecondsUntil(_capacity), 0);
            }

            return new RateLimitDecision(false, 0, SecondsUntil(_capacity), Math.Max(1, SecondsUntil(1)));
        }
    }

    /// <summary>The state without taking a token, for the usage endpoint.</summary>
    public RateLimitDecision Peek(long now)
    {
        lock (_gate)
        {
            Refill(now);
            return new RateLimitDecision(_tokens >= 1, (int)_tokens, SecondsUntil(_capacity), _tokens >= 1 ? 0 : Math.Max(1, SecondsUntil(1)));
        }
    }

    private void Refill(long now)
    {
        var elapsed = now - _lastRefill;
        if (elapsed > 0)
        {
            _tokens = Math.Min(_capacity, _tokens + (elapsed * _tokensPerTick));
            _lastRefill = now;
        }
    }

    private int SecondsUntil(double level) =>
        _tokens >= level ? 0 : (int)Math.Ceiling((level - _tokens) / (_tokensPerTick * _ticksPerSecond));
}
