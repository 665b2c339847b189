namespace Gateway.StripeTestServer.Http;

public enum StripeFaultKind
{
    /// <summary>500 with Stripe's <c>api_error</c>; nothing changes.</summary>
    ServerError,

    /// <summary>429 <c>rate_limit</c> with a <c>Retry-After</c> header; nothing changes.</summary>
    TooManyRequests,

    /// <summary>The answer waits <see cref="StripeFault.Delay"/> (longer than the client's timeout), then the request is processed as usual: Stripe finishes what it started.</summary>
    Delay,

    /// <summary>The request is processed and its change kept, then the connection is dropped before any byte of the answer.</summary>
    CommittedThenDropped,
}

/// <summary>One fault, for requests whose path starts with <see cref="PathPrefix"/> (any request when null).</summary>
public sealed record StripeFault(StripeFaultKind Kind, string? PathPrefix = null)
{
    public TimeSpan Delay { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// Faults on demand: queued ones hit the next matching requests in order; random ones hit a share of matching
/// requests (seeded, so a run can be repeated) until each kind's budget is spent. Counts what it injected.
/// </summary>
public sealed class StripeFaults
{
    private readonly Lock _lock = new();
    private readonly LinkedList<StripeFault> _queued = new();
    private readonly Dictionary<StripeFaultKind, int> _injected = [];
    private RandomPlan? _random;

    /// <summary>Faults injected so far, per kind.</summary>
    public IReadOnlyDictionary<StripeFaultKind, int> Injected
    {
        get
        {
            lock (_lock)
            {
                return new Dictionary<StripeFaultKind, int>(_injected);
            }
        }
    }

    public int InjectedTotal => Injected.Values.Sum();

    /// <summary>Faults still to inject (queued plus the random budget left).</summary>
    public int Pending
    {
        get
        {
            lock (_lock)
            {
                return _queued.Count + (_random?.Budget.Values.Sum() ?? 0);
            }
        }
    }

    public void Enqueue(StripeFault fault, int times = 1)
    {
        lock (_lock)
        {
            for (var i = 0; i < times; i++)
            {
                _queued.AddLast(fault);
            }
        }
    }

    /// <summary>
    /// From now on a matching request gets a fault with <paramref name="probability"/>, of a kind drawn among those with
    /// budget left, until every budget is spent.
    /// </summary>
    public void InjectRandomly(
        int seed, double probability, IReadOnlyDictionary<StripeFaultKind, int> budget, string? pathPrefix = null, TimeSpan? delay = null, TimeSpan? retryAfter = null)
    {
        lock (_lock)
        {
            _random = new RandomPlan(
                new Random(seed), probability, new Dictionary<StripeFaultKind, int>(budget), pathPrefix, delay ?? TimeSpan.FromSeconds(2), retryAfter ?? TimeSpan.FromSeconds(1));
        }
    }

    public void Clear()
    {
        lock (_lock)
        {
            _queued.Clear();
            _random = null;
        }
    }

    internal StripeFault? Next(string path)
    {
        lock (_lock)
        {
            for (var node = _queued.First; node is not null; node = node.Next)
            {
                if (Matches(node.Value.PathPrefix, path))
                {
                    _queued.Remove(node);
                    return Count(node.Value);
                }
            }

            if (_random is { } plan && Matches(plan.PathPrefix, path) && plan.Random.NextDouble() < plan.Probability)
            {
                var kinds = plan.Budget.Where(b => b.Value > 0).Select(b => b.Key).Order().ToList();
                if (kinds.Count > 0)
                {
                    var kind = kinds[plan.Random.Next(kinds.Count)];
                    plan.Budget[kind]--;
                    return Count(new StripeFault(kind, plan.PathPrefix) { Delay = plan.Delay, RetryAfter = plan.RetryAfter });
                }
            }

            return null;
        }
    }

    private static bool Matches(string? prefix, string path) => prefix is null || path.StartsWith(prefix, StringComparison.Ordinal);

    private StripeFault Count(StripeFault fault)
    {
        _injected[fault.Kind] = _injected.GetValueOrDefault(fault.Kind) + 1;
        return fault;
    }

    private sealed record RandomPlan(Random Random, double Probability, Dictionary<StripeFaultKind, int> Budget, string? PathPrefix, TimeSpan Delay, TimeSpan RetryAfter);
}
