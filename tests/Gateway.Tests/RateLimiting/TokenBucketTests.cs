using Gateway.Proxy.RateLimiting;

namespace Gateway.Tests.RateLimiting;

public sealed class TokenBucketTests
{
    private const long TicksPerSecond = 1_000_000;

    [Fact]
    public void Bucket_AllowsBurstThenRefuses_WithRetryAfter()
    {
        var bucket = new TokenBucket(requestsPerSecond: 2, burst: 3, now: 0, TicksPerSecond);

        var decisions = Enumerable.Range(0, 4).Select(_ => bucket.TryTake(0)).ToList();

        Assert.Equal([true, true, true, false], decisions.Select(d => d.Allowed));
        Assert.Equal([2, 1, 0], decisions.Take(3).Select(d => d.Remaining));
        Assert.Equal(1, decisions[3].RetryAfterSeconds);
    }

    [Fact]
    public void Bucket_RefillsAtTheConfiguredRate_UpToBurst()
    {
        var bucket = new TokenBucket(requestsPerSecond: 2, burst: 3, now: 0, TicksPerSecond);
        for (var i = 0; i < 3; i++)
        {
            bucket.TryTake(0);
        }

        Assert.False(bucket.TryTake(TicksPerSecond / 4).Allowed);
        Assert.True(bucket.TryTake(TicksPerSecond / 2).Allowed);
        Assert.Equal(2, bucket.TryTake(100 * TicksPerSecond).Remaining);
    }

    [Fact]
    public void Bucket_ReportsSecondsUntilFull()
    {
        var bucket = new TokenBucket(requestsPerSecond: 1, burst: 10, now: 0, TicksPerSecond);
        for (var i = 0; i < 10; i++)
        {
            bucket.TryTake(0);
        }

        var refused = bucket.TryTake(0);

        Assert.Equal(10, refused.SecondsUntilFull);
        Assert.Equal(1, refused.RetryAfterSeconds);
    }

    [Fact]
    public void Bucket_RefusedAtASlowRate_SaysToRetryWhenTheNextTokenArrives_NotAfterOneSecond()
    {
        var bucket = new TokenBucket(requestsPerSecond: 0.25, burst: 1, now: 0, TicksPerSecond);
        bucket.TryTake(0);

        var refused = bucket.TryTake(0);

        Assert.False(refused.Allowed);
        Assert.Equal(4, refused.RetryAfterSeconds);
        Assert.Equal(4, refused.SecondsUntilFull);
    }

    [Fact]
    public void Bucket_CreatedLaterThanTheClocksOrigin_RefillsOnlyForTheTimeSinceItsLastCall()
    {
        const long start = 1_000 * TicksPerSecond;
        var bucket = new TokenBucket(requestsPerSecond: 1, burst: 2, now: start, TicksPerSecond);
        bucket.TryTake(start);
        bucket.TryTake(start);

        Assert.False(bucket.TryTake(start).Allowed);
        Assert.False(bucket.TryTake(start + (TicksPerSecond / 2)).Allowed);
        Assert.True(bucket.TryTake(start + TicksPerSecond).Allowed);
    }

    [Fact]
    public void Bucket_PartlyDrained_ReportsTheSecondsToRefillWhatWasTaken()
    {
        var bucket = new TokenBucket(requestsPerSecond: 1, burst: 10, now: 0, TicksPerSecond);

        var first = bucket.TryTake(0);
        bucket.TryTake(0);
        var third = bucket.TryTake(0);

        Assert.Equal(1, first.SecondsUntilFull);
        Assert.Equal(3, third.SecondsUntilFull);
        Assert.Equal(7, third.Remaining);
    }

    [Fact]
    public void Peek_OnAFullBucket_ReportsItWithoutTakingAToken()
    {
        var bucket = new TokenBucket(requestsPerSecond: 1, burst: 2, now: 0, TicksPerSecond);

        var peeked = bucket.Peek(0);
        var again = bucket.Peek(0);

        Assert.Equal(new RateLimitDecision(true, 2, 0, 0), peeked);
        Assert.Equal(peeked, again);
        Assert.Equal(1, bucket.TryTake(0).Remaining);
    }

    [Fact]
    public void Peek_OnAnEmptyBucket_ReportsRefusal_AndRefillsFromTheElapsedTime()
    {
        var bucket = new TokenBucket(requestsPerSecond: 0.5, burst: 2, now: 0, TicksPerSecond);
        bucket.TryTake(0);
        bucket.TryTake(0);

        var empty = bucket.Peek(0);
        var later = bucket.Peek(2 * TicksPerSecond);

        Assert.Equal(new RateLimitDecision(false, 0, 4, 2), empty);
        Assert.Equal(new RateLimitDecision(true, 1, 2, 0), later);
    }

    [Fact]
    public void Peek_WithExactlyOneTokenLeft_ReportsAllowed()
    {
        var bucket = new TokenBucket(requestsPerSecond: 1, burst: 2, now: 0, TicksPerSecond);
        bucket.TryTake(0);

        Assert.Equal(new RateLimitDecision(true, 1, 1, 0), bucket.Peek(0));
    }
}
