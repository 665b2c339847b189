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
}
