using Gateway.Compliance;
using Gateway.Core.Plans;
using Gateway.Core.Storage;
using Gateway.Core.Usage;
using Gateway.Proxy.Compliance;
using Gateway.Proxy.Keys;
using Gateway.Proxy.Metering;
using Gateway.Proxy.Problems;
using Gateway.Proxy.Quotas;
using Gateway.Proxy.RateLimiting;
using Gateway.Proxy.Telemetry;

namespace Gateway.Proxy.Proxying;

/// <summary>
/// The gateway's step in the YARP pipeline: verify the key, hold the caller to its plan (licensed route groups,
/// rate limit, daily record cap, monthly quota), forward (counting the records a JSON response delivers on routes
/// with a record-id path), then count the call. Every refusal is a problem+json response with a
/// stable type; refusals of a known key are counted as rejections, never as billable calls.
/// Rate-limit headers (<c>X-RateLimit-Limit</c>, <c>-Remaining</c>, <c>-Reset</c>) go on every response to a verified key.
/// </summary>
public sealed partial class AdmissionMiddleware(
    RequestDelegate next,
    ApiKeyVerifier verifier,
    QuotaLedger ledger,
    UsageRecorder usage,
    EvidenceRecorder evidence,
    RecordCaptures records,
    GatewayMetrics metrics,
    TimeProvider time,
    ILogger<AdmissionMiddleware> logger)
{
    public const string LimitHeader = "X-RateLimit-Limit";
    public const string RemainingHeader = "X-RateLimit-Remaining";
    public const string ResetHeader = "X-RateLimit-Reset";

    /// <summary>
    /// Not <c>async</c>: for a key already in memory every check completes synchronously, so the only state machine
    /// allocated per call is the small one that counts the call once forwarding completes.
    /// </summary>
    public Task InvokeAsync(HttpContext context)
    {
        var started = metrics.AdmissionStarting();
        ValueTask<KeyVerification> verifying;
        try
        {
            verifying = verifier.VerifyAsync(context);
        }
        catch (Exception e) when (IsStorageFault(e, context))
        {
            return StorageUnavailableAsync(context, e);
        }

        if (!verifying.IsCompletedSuccessfully)
        {
            return AdmitWhenVerifiedAsync(context, verifying, started);
        }

        var verification = verifying.Result;
        if (verification.Caller is not null)
        {
            metrics.KeyCacheHit();
        }

        return AdmitAsync(context, verification, started);
    }

    public static void WriteRateLimitHeaders(IHeaderDictionary headers, TokenBucket bucket, RateLimitDecision decision)
    {
        headers[LimitHeader] = bucket.CapacityHeaderValue;
        headers[RemainingHeader] = HeaderValues.Number(decision.Remaining);
        headers[ResetHeader] = HeaderValues.Number(decision.SecondsUntilFull);
    }

    private static bool IsStorageFault(Exception e, HttpContext context) =>
        StorageFaults.IsStorageFault(e, context.RequestAborted) && !context.RequestAborted.IsCancellationRequested;

    private Task StorageUnavailableAsync(HttpContext context, Exception e)
    {
        LogStorageUnavailable(logger, e);
        return DataPlaneProblems.WriteAsync(context, Rejection.StorageUnavailable, retryAfterSeconds: 1);
    }

    /// <summary>A key seen for the first time (or refreshed): wait for storage, then admit as usual.</summary>
    private async Task AdmitWhenVerifiedAsync(HttpContext context, ValueTask<KeyVerification> verifying, long started)
    {
        metrics.KeyCacheMiss();
        KeyVerification verification;
        try
        {
            verification = await verifying;
        }
        catch (Exception e) when (IsStorageFault(e, context))
        {
            await StorageUnavailableAsync(context, e);
            return;
        }

        await AdmitAsync(context, verification, started);
    }

    private Task AdmitAsync(HttpContext context, KeyVerification verification, long started)
    {
        if (verification.RefusesKey(out var refusal))
        {
            if (refusal == Rejection.RevokedKey && verification.Caller is { } revoked)
            {
                RecordEvidence(context, revoked, EvidenceKind.AfterRevocation);
            }

            return DataPlaneProblems.WriteAsync(context, refusal, verification.RetryAfterSeconds);
        }

        var caller = verification.Caller!;
        var routeGroup = RouteGroups.Of(context);
        if (verification.Rejection is { } refused)
        {
            // A known key refused as such (suspended): counted, with its rate limit reported.
            WriteCurrentRateLimit(context, caller.RateLimit);
            return RejectAsync(context, caller, routeGroup, refused);
        }

        if (!caller.Plan.Covers(routeGroup))
        {
            WriteCurrentRateLimit(context, caller.RateLimit);
            return RejectAsync(context, caller, routeGroup, Rejection.RouteNotInPlan);
        }

        var rate = caller.RateLimit.TryTake(time.GetTimestamp());
        WriteRateLimitHeaders(context.Response.Headers, caller.RateLimit, rate);
        if (!rate.Allowed)
        {
            return RejectAsync(context, caller, routeGroup, Rejection.RateLimited, rate.RetryAfterSeconds);
        }

        var now = time.GetUtcNow();
        if (caller.DailyRecordCap > 0 && evidence.RecordsToday(caller.KeyId) >= caller.DailyRecordCap)
        {
            // Refused before the quota is touched; calls resume at the next UTC midnight.
            var untilMidnight = (long)Math.Ceiling((now.UtcDateTime.Date.AddDays(1) - now.UtcDateTime).TotalSeconds);
            return RejectAsync(context, caller, routeGroup, Rejection.RecordCapReached, (int)Math.Max(1, untilMidnight));
        }

        var month = UsageCalendar.MonthOf(now);
        var period = caller.QuotaPeriod(ledger, month);
        var decision = period.TryAdmit(caller.Plan, caller.SpendCeiling);
        if (decision == QuotaDecision.AwaitingLease)
        {
            return AdmitWhenLeasedAsync(context, caller, period, routeGroup, started);
        }

        return Decided(context, caller, period, routeGroup, decision, started);
    }

    /// <summary>Quota leases: this instance's block was empty; the call waits for the lease call under way, then is decided as usual.</summary>
    private async Task AdmitWhenLeasedAsync(HttpContext context, ApiCaller caller, QuotaPeriod period, string routeGroup, long started)
    {
        var decision = await period.Block!.AdmitAsync(caller.QuotaLimit, context.RequestAborted);
        await Decided(context, caller, period, routeGroup, decision, started);
    }

    /// <summary>Refuses the call the quota refused, or forwards it and counts it.</summary>
    private Task Decided(HttpContext context, ApiCaller caller, QuotaPeriod period, string routeGroup, QuotaDecision decision, long started)
    {
        if (decision == QuotaDecision.Exhausted)
        {
            var now = time.GetUtcNow();
            var untilNextMonth = (long)Math.Ceiling((UsageCalendar.MonthEnd(period.Month) - now).TotalSeconds);
            // A billing plan is refused only at its spend cap's ceiling: its own problem type, never billed.
            var refusal = caller.Plan.OverQuota == OverQuotaBehaviour.Bill ? Rejection.SpendCapReached : Rejection.QuotaExhausted;
            return RejectAsync(context, caller, routeGroup, refusal, (int)Math.Min(untilNextMonth, int.MaxValue));
        }

        if (decision == QuotaDecision.Unavailable)
        {
            return DataPlaneProblems.WriteAsync(context, Rejection.StorageUnavailable, retryAfterSeconds: 1);
        }

        context.Features.Set(caller);
        metrics.Admitted(started);
        var admitted = new AdmittedCall(caller, period, routeGroup, records.Start(context, caller));
        ForwardingSpans.Start(caller, routeGroup);
        Task forwarding;
        try
        {
            forwarding = next(context);
        }
        catch
        {
            Count(context, admitted, FaultOutcome(context));
            throw;
        }

        if (forwarding.IsCompletedSuccessfully)
        {
            return CountForwarded(context, admitted);
        }

        if (forwarding.IsCompleted)
        {
            // Faulted or cancelled: counted now; returning the task passes the fault on, as awaiting would.
            Count(context, admitted, FaultOutcome(context));
            return forwarding;
        }

        return CountWhenForwardedAsync(forwarding, context, admitted);
    }

    /// <summary>Every admitted call is counted exactly once, with how it ended, whatever happens upstream.</summary>
    private async Task CountWhenForwardedAsync(Task forwarding, HttpContext context, AdmittedCall admitted)
    {
        try
        {
            await forwarding;
        }
        catch
        {
            Count(context, admitted, FaultOutcome(context));
            throw;
        }

        await CountForwarded(context, admitted);
    }

    /// <summary>
    /// Counts a forwarded call by how it ended (<see cref="ForwardedCalls"/>). When the upstream never answered and
    /// nothing has been sent yet, the caller gets the gateway's own problem instead of an empty 502/504.
    /// </summary>
    private Task CountForwarded(HttpContext context, AdmittedCall admitted)
    {
        var outcome = ForwardedCalls.Outcome(context, out var problem);
        Count(context, admitted, outcome);
        if (outcome != CallOutcome.GatewayError || context.Response.HasStarted || context.RequestAborted.IsCancellationRequested)
        {
            return Task.CompletedTask;
        }

        // YARP may have cleared the response headers along with the upstream's partial answer.
        WriteCurrentRateLimit(context, admitted.Caller.RateLimit);
        return DataPlaneProblems.WriteAsync(context, problem);
    }

    /// <summary>Forwarding threw: no answer from the upstream reached the caller through the proxy.</summary>
    private static CallOutcome FaultOutcome(HttpContext context) =>
        context.RequestAborted.IsCancellationRequested ? CallOutcome.ClientAborted : CallOutcome.GatewayError;

    /// <summary>
    /// Records the call; one that is not billable on the key's plan (<see cref="Core.Plans.Plan.Bills"/>: by default a
    /// 5xx, an upstream 429, a gateway error or a call the client left) gives its quota back to the period that
    /// admitted it (after the outcome is known, so the call held its place while in flight).
    /// </summary>
    private void Count(HttpContext context, AdmittedCall admitted, CallOutcome outcome)
    {
        if (admitted.Records is { } capture)
        {
            records.Finish(capture);
        }

        var caller = admitted.Caller;
        usage.Record(caller.CustomerId, caller.KeyId, admitted.RouteGroup, outcome);
        RecordEvidence(context, caller, EvidenceKind.Call);
        metrics.Call(caller.Plan.Name, admitted.RouteGroup, outcome);
        ForwardingSpans.Stop(outcome);
        if (!caller.Plan.Bills(outcome))
        {
            ledger.Release(admitted.Period);
        }
    }

    /// <summary>The bucket's state without taking a token: refusals before the rate limit report it too.</summary>
    private void WriteCurrentRateLimit(HttpContext context, TokenBucket bucket) =>
        WriteRateLimitHeaders(context.Response.Headers, bucket, bucket.Peek(time.GetTimestamp()));

    /// <summary>Refuses a call by a known key, counted as the outcome the rejection carries.</summary>
    private Task RejectAsync(HttpContext context, ApiCaller caller, string routeGroup, Rejection rejection, int retryAfterSeconds = 0)
    {
        if (rejection.CountedAs() is { } outcome)
        {
            usage.Record(caller.CustomerId, caller.KeyId, routeGroup, outcome);
            metrics.Call(caller.Plan.Name, routeGroup, outcome);
        }

        if (EvidenceOf(rejection) is { } kind)
        {
            RecordEvidence(context, caller, kind);
        }

        return DataPlaneProblems.WriteAsync(context, rejection, retryAfterSeconds);
    }

    /// <summary>The refusals compliance keeps evidence of; a rate-limited call is the plan working, not evidence.</summary>
    private static EvidenceKind? EvidenceOf(Rejection rejection) => rejection switch
    {
        Rejection.RouteNotInPlan => EvidenceKind.UnlicensedRoute,
        Rejection.Suspended or Rejection.RevokedKey => EvidenceKind.AfterRevocation,
        Rejection.QuotaExhausted => EvidenceKind.QuotaRefusal,
        _ => null,
    };

    /// <summary>
    /// Compliance evidence of a request by a known key, once its answer is decided: in memory only (the network as one
    /// number, the user agent hashed), written by the evidence flush.
    /// </summary>
    private void RecordEvidence(HttpContext context, ApiCaller caller, EvidenceKind kind)
    {
        var network = ClientNetwork.Of(context.Connection.RemoteIpAddress);
        var packed = network.Family == System.Net.Sockets.AddressFamily.InterNetwork
            ? EvidenceNetwork.OfIPv4((uint)network.Prefix)
            : EvidenceNetwork.OfIPv6(network.Prefix);
        evidence.Record(caller.KeyId, caller.CustomerId, caller.Plan.Name, packed, context.Request.Headers.UserAgent.ToString(), kind);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Key storage is unavailable; answering 503.")]
    private static partial void LogStorageUnavailable(ILogger logger, Exception exception);

    /// <summary>An admitted call, as counting it after forwarding needs it: the quota period is the one that admitted it.</summary>
    private readonly record struct AdmittedCall(ApiCaller Caller, QuotaPeriod Period, string RouteGroup, RecordCaptureStream? Records);
}
