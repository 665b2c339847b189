using Gateway.Core.Storage;
using Gateway.Core.Usage;
using Gateway.Proxy.Keys;
using Gateway.Proxy.Metering;
using Gateway.Proxy.Problems;
using Gateway.Proxy.Quotas;
using Gateway.Proxy.RateLimiting;

namespace Gateway.Proxy.Proxying;

/// <summary>
/// The gateway's step in the YARP pipeline: verify the key, hold the caller to its plan (licensed route groups,
/// rate limit, monthly quota), forward, then count the call. Every refusal is a problem+json response with a
/// stable type; refusals of a known key are counted as rejections, never as billable calls.
/// Rate-limit headers (<c>X-RateLimit-Limit</c>, <c>-Remaining</c>, <c>-Reset</c>) go on every response to a verified key.
/// </summary>
public sealed partial class AdmissionMiddleware(
    RequestDelegate next,
    ApiKeyVerifier verifier,
    QuotaLedger ledger,
    UsageRecorder usage,
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
        ValueTask<KeyVerification> verifying;
        try
        {
            verifying = verifier.VerifyAsync(context);
        }
        catch (Exception e) when (IsStorageFault(e, context))
        {
            return StorageUnavailableAsync(context, e);
        }

        return verifying.IsCompletedSuccessfully ? AdmitAsync(context, verifying.Result) : AdmitWhenVerifiedAsync(context, verifying);
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
    private async Task AdmitWhenVerifiedAsync(HttpContext context, ValueTask<KeyVerification> verifying)
    {
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

        await AdmitAsync(context, verification);
    }

    private Task AdmitAsync(HttpContext context, KeyVerification verification)
    {
        if (verification.Outcome == KeyVerificationOutcome.LookupLimited)
        {
            return DataPlaneProblems.WriteAsync(context, Rejection.TooManyKeyLookups, KeyLookupLimiter.RetryAfterSeconds);
        }

        if (verification.Outcome != KeyVerificationOutcome.Verified && verification.Outcome != KeyVerificationOutcome.Suspended)
        {
            return DataPlaneProblems.WriteAsync(context, verification.Outcome switch
            {
                KeyVerificationOutcome.Missing => Rejection.MissingKey,
                KeyVerificationOutcome.Malformed => Rejection.MalformedKey,
                KeyVerificationOutcome.Revoked => Rejection.RevokedKey,
                _ => Rejection.UnknownKey,
            });
        }

        var caller = verification.Caller!;
        var routeGroup = RouteGroups.Of(context);
        if (verification.Outcome == KeyVerificationOutcome.Suspended)
        {
            return RejectAsync(context, caller, routeGroup, CallOutcome.RejectedSuspended, Rejection.Suspended);
        }

        if (!caller.Plan.Covers(routeGroup))
        {
            return RejectAsync(context, caller, routeGroup, CallOutcome.RejectedRouteNotInPlan, Rejection.RouteNotInPlan);
        }

        var rate = caller.RateLimit.TryTake(time.GetTimestamp());
        WriteRateLimitHeaders(context.Response.Headers, caller.RateLimit, rate);
        if (!rate.Allowed)
        {
            return RejectAsync(context, caller, routeGroup, CallOutcome.RejectedRateLimited, Rejection.RateLimited, rate.RetryAfterSeconds);
        }

        var now = time.GetUtcNow();
        var month = UsageCalendar.MonthOf(now);
        if (caller.QuotaPeriod(ledger, month).TryAdmit(caller.Plan) == QuotaDecision.Exhausted)
        {
            var untilNextMonth = (long)Math.Ceiling((UsageCalendar.MonthEnd(month) - now).TotalSeconds);
            return RejectAsync(context, caller, routeGroup, CallOutcome.RejectedQuotaExhausted, Rejection.QuotaExhausted, (int)Math.Min(untilNextMonth, int.MaxValue));
        }

        context.Features.Set(caller);
        Task forwarding;
        try
        {
            forwarding = next(context);
        }
        catch
        {
            Count(context, caller, routeGroup);
            throw;
        }

        if (forwarding.IsCompleted)
        {
            // Completed, faulted or cancelled: counted now; returning the task passes any fault on, as awaiting would.
            Count(context, caller, routeGroup);
            return forwarding;
        }

        return CountWhenForwardedAsync(forwarding, context, caller, routeGroup);
    }

    /// <summary>Every admitted call is counted exactly once, with the status the caller got, whatever happens upstream.</summary>
    private async Task CountWhenForwardedAsync(Task forwarding, HttpContext context, ApiCaller caller, string routeGroup)
    {
        try
        {
            await forwarding;
        }
        finally
        {
            Count(context, caller, routeGroup);
        }
    }

    private void Count(HttpContext context, ApiCaller caller, string routeGroup) =>
        usage.Record(caller.CustomerId, caller.KeyId, routeGroup, CallOutcomes.FromStatusCode(context.Response.StatusCode));

    private Task RejectAsync(HttpContext context, ApiCaller caller, string routeGroup, CallOutcome outcome, Rejection rejection, int retryAfterSeconds = 0)
    {
        usage.Record(caller.CustomerId, caller.KeyId, routeGroup, outcome);
        return DataPlaneProblems.WriteAsync(context, rejection, retryAfterSeconds);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Key storage is unavailable; answering 503.")]
    private static partial void LogStorageUnavailable(ILogger logger, Exception exception);
}
