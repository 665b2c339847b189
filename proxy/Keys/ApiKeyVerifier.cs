using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Gateway.Core;
using Gateway.Core.Keys;
using Gateway.Core.Plans;
using Gateway.Core.Usage;
using Gateway.Proxy.Quotas;
using Gateway.Proxy.RateLimiting;
using Microsoft.Extensions.Options;

namespace Gateway.Proxy.Keys;

public enum KeyVerificationOutcome
{
    Verified,
    Missing,
    Malformed,
    Unknown,
    Revoked,
    Suspended,
}

public readonly record struct KeyVerification(KeyVerificationOutcome Outcome, ApiCaller? Caller)
{
    public static readonly KeyVerification Missing = new(KeyVerificationOutcome.Missing, null);
    public static readonly KeyVerification Malformed = new(KeyVerificationOutcome.Malformed, null);
    public static readonly KeyVerification Unknown = new(KeyVerificationOutcome.Unknown, null);

    public static KeyVerification Of(ApiCaller caller) => new(
        caller.Status switch
        {
            ApiKeyStatus.Active => KeyVerificationOutcome.Verified,
            ApiKeyStatus.Suspended => KeyVerificationOutcome.Suspended,
            _ => KeyVerificationOutcome.Revoked,
        },
        caller);
}

/// <summary>
/// Verifies presented API keys. A key seen before is answered from memory: a dictionary lookup by key id and a
/// constant-time comparison with the plaintext it was verified with, no hashing and no storage. A malformed key
/// (layout, alphabet, checksum) is refused before any lookup. Only a well-formed key not in memory is read from
/// storage, hashed and compared with the stored hash; unknown key ids are remembered for a while so that a flood
/// of forged well-formed keys cannot turn into a flood of storage reads.
/// Entries are re-read in the background every <see cref="KeyOptions.CacheRefresh"/>, and dropped at once when
/// a <see cref="KeyChange"/> arrives.
/// </summary>
public sealed partial class ApiKeyVerifier : IKeyChangeSink
{
    private const int MaxUnknownRemembered = 100_000;

    /// <summary>Background re-reads in flight at once; a key that finds them all busy tries again on a later request.</summary>
    private const int MaxConcurrentRefreshes = 16;
    private static readonly TimeSpan UnknownRememberedFor = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, ApiCaller> _callers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ApiCaller>.AlternateLookup<ReadOnlySpan<char>> _callersBySpan;
    private readonly ConcurrentDictionary<string, long> _unknown = new(StringComparer.Ordinal);
    private int _refreshesInFlight;
    private readonly ApiKeyFormat _format;
    private readonly IApiKeyStore _store;
    private readonly PlanCatalog _plans;
    private readonly QuotaLedger _ledger;
    private readonly UsageTable _usage;
    private readonly IUnflushedUsage _writer;
    private readonly TimeProvider _time;
    private readonly long _refreshTicks;
    private readonly ILogger<ApiKeyVerifier> _logger;

    public ApiKeyVerifier(
        IOptions<GatewayOptions> options,
        IApiKeyStore store,
        PlanCatalog plans,
        QuotaLedger ledger,
        UsageTable usage,
        IUnflushedUsage writer,
        TimeProvider time,
        ILogger<ApiKeyVerifier> logger)
    {
        _format = new ApiKeyFormat(options.Value.Keys.Environment);
        _callersBySpan = _callers.GetAlternateLookup<ReadOnlySpan<char>>();
        _store = store;
        _plans = plans;
        _ledger = ledger;
        _usage = usage;
        _writer = writer;
        _time = time;
        _refreshTicks = (long)(options.Value.Keys.CacheRefresh.TotalSeconds * time.TimestampFrequency);
        _logger = logger;
    }

    /// <summary>Verifies the key in the request headers. Completes synchronously for every key already in memory.</summary>
    public ValueTask<KeyVerification> VerifyAsync(IHeaderDictionary headers, CancellationToken cancellationToken)
    {
        switch (ApiKeyCredentials.TryRead(headers, out var key))
        {
            case ApiKeyCredentials.ReadResult.Missing:
                return new(KeyVerification.Missing);
            case ApiKeyCredentials.ReadResult.Ambiguous:
                return new(KeyVerification.Malformed);
        }

        if (!_format.TryGetKeyId(key, out var keyId))
        {
            return new(KeyVerification.Malformed);
        }

        if (_callersBySpan.TryGetValue(keyId, out var cached) && SameKey(key, cached.VerifiedKey))
        {
            if (_time.GetTimestamp() >= cached.RefreshAt && cached.TryStartRefresh())
            {
                if (Interlocked.Increment(ref _refreshesInFlight) <= MaxConcurrentRefreshes)
                {
                    _ = RefreshAsync(cached);
                }
                else
                {
                    Interlocked.Decrement(ref _refreshesInFlight);
                    cached.RefreshDone();
                }
            }

            return new(KeyVerification.Of(cached));
        }

        if (!_format.IsWellFormed(key))
        {
            return new(KeyVerification.Malformed);
        }

        if (cached is not null)
        {
            // A well-formed key whose id is cached under another secret: a key id has exactly one key, so this is
            // a wrong or forged key, and no storage read is needed to say so.
            return new(KeyVerification.Unknown);
        }

        return LoadAsync(key.ToString(), keyId.ToString(), cancellationToken);
    }

    public void Apply(KeyChange change) => _callers.TryRemove(change.KeyId, out _);

    private static bool SameKey(ReadOnlySpan<char> presented, string verified) =>
        CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(presented), MemoryMarshal.AsBytes(verified.AsSpan()));

    private async ValueTask<KeyVerification> LoadAsync(string key, string keyId, CancellationToken cancellationToken)
    {
        var now = _time.GetTimestamp();
        if (_unknown.TryGetValue(keyId, out var until) && now < until)
        {
            return KeyVerification.Unknown;
        }

        var record = await _store.FindAsync(keyId, cancellationToken);
        if (record is null || !ApiKeyHash.Matches(key, record.Hash))
        {
            RememberUnknown(keyId, now);
            return KeyVerification.Unknown;
        }

        var caller = await CreateCallerAsync(record, key, previous: null, cancellationToken);
        return KeyVerification.Of(_callers.GetOrAdd(keyId, caller));
    }

    private async Task<ApiCaller> CreateCallerAsync(ApiKeyRecord record, string key, ApiCaller? previous, CancellationToken cancellationToken)
    {
        if (!_plans.TryGet(record.Plan, out var plan))
        {
            // A key on a plan that was removed from the catalog keeps working on the most restrictive plan.
            plan = _plans.All.First();
            LogUnknownPlan(_logger, record.Id, record.Plan, plan.Name);
        }

        var now = _time.GetTimestamp();
        var bucket = previous is not null && ReferenceEquals(previous.Plan, plan)
            ? previous.RateLimit
            : new TokenBucket(plan.RequestsPerSecond, plan.Burst, now, _time.TimestampFrequency);
        // Spread over 75-100 % of CacheRefresh, so keys loaded together do not all come due together.
        var refreshAt = now + (long)(_refreshTicks * (0.75 + (0.25 * Random.Shared.NextDouble())));
        var caller = new ApiCaller(record, plan, key, bucket, refreshAt);

        // The quota baseline: what other writers (other instances, earlier runs of this one) counted this month.
        var month = UsageCalendar.MonthOf(_time.GetUtcNow());
        var baseline = await _usage.ReadMonthTotalAsync(record.CustomerId, record.Id, month, _writer.Writer, cancellationToken);
        caller.QuotaPeriod(_ledger, month).SetBaseline(baseline);
        return caller;
    }

    private async Task RefreshAsync(ApiCaller cached)
    {
        try
        {
            var record = await _store.FindAsync(cached.KeyId, CancellationToken.None);
            if (record is null)
            {
                _callers.TryRemove(new KeyValuePair<string, ApiCaller>(cached.KeyId, cached));
                return;
            }

            var fresh = await CreateCallerAsync(record, cached.VerifiedKey, cached, CancellationToken.None);
            _callers.TryUpdate(cached.KeyId, fresh, cached);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Keep serving the entry we have; the next request after the refresh time tries again.
            LogRefreshFailed(_logger, cached.KeyId, e);
        }
        finally
        {
            Interlocked.Decrement(ref _refreshesInFlight);
            cached.RefreshDone();
        }
    }

    private void RememberUnknown(string keyId, long now)
    {
        if (_unknown.Count >= MaxUnknownRemembered)
        {
            _unknown.Clear();
        }

        _unknown[keyId] = now + (long)(UnknownRememberedFor.TotalSeconds * _time.TimestampFrequency);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Key {KeyId} is on plan '{Plan}', which the catalog no longer has; enforcing plan '{Fallback}'.")]
    private static partial void LogUnknownPlan(ILogger logger, string keyId, string plan, string fallback);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refreshing key {KeyId} from storage failed; serving the cached entry.")]
    private static partial void LogRefreshFailed(ILogger logger, string keyId, Exception exception);
}
