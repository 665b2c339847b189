using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Gateway.Core;
using Gateway.Core.Keys;
using Gateway.Proxy.Problems;
using Microsoft.Extensions.Options;

namespace Gateway.Proxy.Keys;

/// <summary>
/// Verifies presented API keys. A key seen before is answered from memory: a dictionary lookup by key id and a
/// constant-time comparison with the plaintext it was verified with, no hashing and no storage. A malformed key
/// (layout, alphabet, checksum) is refused before any lookup. Only a well-formed key not in memory is read from
/// storage, hashed and compared with the stored hash:
/// <list type="bullet">
/// <item>Requests presenting the same key while it loads share one load.</item>
/// <item>A load is bounded per client network and per instance (<see cref="KeyLookupLimiter"/>): over the limit the
/// caller gets <see cref="Rejection.TooManyKeyLookups"/> before any storage read.</item>
/// <item>A load has a deadline (<see cref="KeyOptions.VerifyTimeout"/>); past it the caller gets a
/// <see cref="TimeoutException"/>, a storage fault (503), instead of waiting out the SDK's retries.</item>
/// <item>A key that matches no record is remembered for a while by a fingerprint of the <em>whole</em> key, so a
/// repeated forgery costs no read, and a wrong secret can never make the right key look unknown.</item>
/// </list>
/// Entries are re-read in the background every <see cref="KeyOptions.CacheRefresh"/>, and dropped at once when
/// a <see cref="KeyChange"/> arrives.
/// <para>
/// Ordering rule: a key change, once applied, is never undone by a read that started before it. Every key id
/// belongs to one of <see cref="InvalidationStripes"/> stripes, each with an invalidation epoch. <see cref="Apply"/>
/// advances the stripe's epoch and drops the cached entry, under the stripe's lock. A read from storage (first load
/// or background refresh) notes the epoch before it asks storage, and puts its result into the cache only under
/// that lock and only if the epoch has not moved; otherwise it reads again. A change is applied only after storage
/// has it (the admin API stores, then publishes), so a read that began after the epoch moved sees the change, and a
/// read that began before can no longer insert. An entry cached before the change is dropped by the change itself.
/// No version column is needed: Table Storage ETags are not ordered, and the epochs are in memory only.
/// </para>
/// </summary>
public sealed partial class ApiKeyVerifier : IKeyChangeSink
{
    private const int MaxRejectedRemembered = 100_000;

    /// <summary>Background re-reads in flight at once; a key that finds them all busy tries again on a later request.</summary>
    private const int MaxConcurrentRefreshes = 16;

    /// <summary>Key ids share this many epochs; a change makes at most the in-flight reads of its stripe read again.</summary>
    private const int InvalidationStripes = 1024;
    private static readonly TimeSpan RejectedRememberedFor = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, ApiCaller> _callers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ApiCaller>.AlternateLookup<ReadOnlySpan<char>> _callersBySpan;

    /// <summary>Loads in flight, by the whole presented key.</summary>
    private readonly ConcurrentDictionary<string, Task<KeyVerification>> _loads = new(StringComparer.Ordinal);

    /// <summary>Keys that matched no record, by <see cref="Fingerprint"/>, until when they are remembered.</summary>
    private readonly ConcurrentDictionary<UInt128, long> _rejected = new();
    private readonly Invalidation[] _invalidations = [.. Enumerable.Range(0, InvalidationStripes).Select(_ => new Invalidation())];
    private readonly KeyLookupLimiter _lookups;
    private readonly TimeSpan _verifyTimeout;
    private int _refreshesInFlight;
    private readonly ApiKeyFormat _format;
    private readonly IApiKeyStore _store;
    private readonly ApiCallerFactory _callerFactory;
    private readonly TimeProvider _time;
    private readonly ILogger<ApiKeyVerifier> _logger;

    /// <param name="lookups">
    /// The host's limiter (a singleton it disposes); without one (benchmarks, tools) the verifier makes its own.
    /// </param>
    public ApiKeyVerifier(
        IOptions<GatewayOptions> options,
        IApiKeyStore store,
        ApiCallerFactory callerFactory,
        TimeProvider time,
        ILogger<ApiKeyVerifier> logger,
        KeyLookupLimiter? lookups = null)
    {
        _format = new ApiKeyFormat(options.Value.Keys.Environment);
        _callersBySpan = _callers.GetAlternateLookup<ReadOnlySpan<char>>();
        _store = store;
        _callerFactory = callerFactory;
        _time = time;
        _verifyTimeout = options.Value.Keys.VerifyTimeout;
        _lookups = lookups ?? new KeyLookupLimiter(options.Value.Keys);
        _logger = logger;
    }

    /// <summary>
    /// Verifies the key in the request's headers. Completes synchronously for every key already in memory; only a
    /// key that is not reads the client's address, to charge the storage read to its network.
    /// </summary>
    public ValueTask<KeyVerification> VerifyAsync(HttpContext context) =>
        Verify(context.Request.Headers, context, context.RequestAborted);

    /// <summary>Verifies a key without a connection (benchmarks, tools): reads are charged to the no-address network.</summary>
    public ValueTask<KeyVerification> VerifyAsync(IHeaderDictionary headers, CancellationToken cancellationToken) =>
        Verify(headers, null, cancellationToken);

    public void Apply(KeyChange change)
    {
        var invalidation = InvalidationOf(change.KeyId);
        lock (invalidation)
        {
            invalidation.Advance();
            _callers.TryRemove(change.KeyId, out _);
        }
    }

    private ValueTask<KeyVerification> Verify(IHeaderDictionary headers, HttpContext? context, CancellationToken cancellationToken)
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
            var now = _time.GetTimestamp();
            if (now >= cached.RefreshAt)
            {
                if (cached.TryStartRefresh())
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

                if (now >= cached.StaleAt)
                {
                    // Gateway:Keys:MaxStaleness: no re-read has succeeded for that long (storage unreachable).
                    return new(KeyVerification.Stale);
                }
            }

            return new(KeyVerification.Of(cached, now));
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

        return LoadAsync(key.ToString(), keyId.ToString(), context?.Connection.RemoteIpAddress, cancellationToken);
    }

    private static bool SameKey(ReadOnlySpan<char> presented, string verified) =>
        CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(presented), MemoryMarshal.AsBytes(verified.AsSpan()));

    /// <summary>128 bits of SHA-256 over the whole presented key: what the negative cache remembers.</summary>
    private static UInt128 Fingerprint(string key)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(MemoryMarshal.AsBytes(key.AsSpan()), hash);
        return BinaryPrimitives.ReadUInt128LittleEndian(hash);
    }

    private Invalidation InvalidationOf(string keyId) =>
        _invalidations[(uint)StringComparer.Ordinal.GetHashCode(keyId) % InvalidationStripes];

    /// <summary>A key not in memory: joins the load of the same key in flight, or starts one if the limits allow.</summary>
    private ValueTask<KeyVerification> LoadAsync(string key, string keyId, IPAddress? client, CancellationToken cancellationToken)
    {
        if (!_loads.TryGetValue(key, out var load))
        {
            // A load fills the caches before it leaves _loads, so one that ended since the cache was checked is seen here.
            var fingerprint = Fingerprint(key);
            if (_rejected.TryGetValue(fingerprint, out var until) && _time.GetTimestamp() < until)
            {
                return new(KeyVerification.Unknown);
            }

            if (_callers.TryGetValue(keyId, out var cached) && SameKey(key, cached.VerifiedKey))
            {
                return new(KeyVerification.Of(cached, _time.GetTimestamp()));
            }

            // Registered before the limiter is asked, so concurrent first calls join this load instead of each being
            // charged a lookup (only the request that starts the load is).
            var started = new TaskCompletionSource<KeyVerification>(TaskCreationOptions.RunContinuationsAsynchronously);
            load = _loads.GetOrAdd(key, started.Task);
            if (load == started.Task)
            {
                if (!_lookups.TryAcquire(client))
                {
                    _loads.TryRemove(new KeyValuePair<string, Task<KeyVerification>>(key, started.Task));
                    started.SetResult(KeyVerification.LookupLimited);
                    return new(KeyVerification.LookupLimited);
                }

                _ = RunLoadAsync(key, keyId, fingerprint, started);
            }
        }

        return new(load.WaitAsync(cancellationToken));
    }

    /// <summary>One load, shared by every request presenting the key meanwhile; no request's cancellation stops it.</summary>
    private async Task RunLoadAsync(string key, string keyId, UInt128 fingerprint, TaskCompletionSource<KeyVerification> load)
    {
        try
        {
            load.SetResult(await ReadAsync(key, keyId, fingerprint, load.Task));
        }
        catch (Exception e)
        {
            _loads.TryRemove(new KeyValuePair<string, Task<KeyVerification>>(key, load.Task));
            load.SetException(e);
        }
    }

    /// <summary>Reads the key, has <see cref="ApiCallerFactory"/> build its entry (quota baseline included) and caches it, following the ordering rule in the summary.</summary>
    private async Task<KeyVerification> ReadAsync(string key, string keyId, UInt128 fingerprint, Task<KeyVerification> load)
    {
        var invalidation = InvalidationOf(keyId);
        var done = new KeyValuePair<string, Task<KeyVerification>>(key, load);
        using var deadline = new CancellationTokenSource(_verifyTimeout, _time);
        try
        {
            while (true)
            {
                var epoch = invalidation.Epoch;
                var record = await _store.FindAsync(keyId, deadline.Token);
                if (record is null || !ApiKeyHash.Matches(key, record.Hash))
                {
                    RememberRejected(fingerprint);
                    _loads.TryRemove(done);
                    return KeyVerification.Unknown;
                }

                var caller = await _callerFactory.CreateAsync(record, key, previous: null, deadline.Token);
                lock (invalidation)
                {
                    if (invalidation.Epoch == epoch)
                    {
                        // Leaving _loads under the lock too: a request that arrives after a change is applied finds
                        // either this load (which then sees the moved epoch and reads again) or the cache.
                        var verification = KeyVerification.Of(_callers.GetOrAdd(keyId, caller), _time.GetTimestamp());
                        _loads.TryRemove(done);
                        return verification;
                    }
                }

                // A change to this key (or a stripe-mate) was applied while the read was in flight: read again.
            }
        }
        catch (OperationCanceledException e) when (deadline.IsCancellationRequested)
        {
            throw new TimeoutException($"Key storage did not answer within {_verifyTimeout.TotalSeconds:0.###} s (Gateway:Keys:VerifyTimeout).", e);
        }
    }

    private async Task RefreshAsync(ApiCaller cached)
    {
        try
        {
            var invalidation = InvalidationOf(cached.KeyId);
            var epoch = invalidation.Epoch;
            var record = await _store.FindAsync(cached.KeyId, CancellationToken.None);
            if (record is null)
            {
                _callers.TryRemove(new KeyValuePair<string, ApiCaller>(cached.KeyId, cached));
                return;
            }

            var fresh = await _callerFactory.CreateAsync(record, cached.VerifiedKey, cached, CancellationToken.None);
            lock (invalidation)
            {
                // A change applied meanwhile has dropped the entry already; the next request loads it afresh.
                if (invalidation.Epoch == epoch)
                {
                    _callers.TryUpdate(cached.KeyId, fresh, cached);
                }
            }
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

    private void RememberRejected(UInt128 fingerprint)
    {
        if (_rejected.Count >= MaxRejectedRemembered)
        {
            _rejected.Clear();
        }

        _rejected[fingerprint] = _time.GetTimestamp() + (long)(RejectedRememberedFor.TotalSeconds * _time.TimestampFrequency);
    }

    /// <summary>One stripe's invalidation epoch; its lock orders cache inserts against <see cref="Apply"/>.</summary>
    private sealed class Invalidation
    {
        private long _epoch;

        public long Epoch => Volatile.Read(ref _epoch);

        /// <summary>Called under the lock.</summary>
        public void Advance() => Volatile.Write(ref _epoch, _epoch + 1);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refreshing key {KeyId} from storage failed; serving the cached entry.")]
    private static partial void LogRefreshFailed(ILogger logger, string keyId, Exception exception);
}
