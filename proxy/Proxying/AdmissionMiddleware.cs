using Azure;
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

    public async Task InvokeAsync(HttpContext context)
    {
        KeyVerification verification;
        try
        {
            verification = await verifier.VerifyAsync(context.Request.Headers, context.RequestAborted);
        }
        catch (Exception e) when (e is RequestFailedException or TimeoutException && !context.RequestAborted.IsCancellationRequested)
        {
            LogStorageUnavailable(logger, e);
            await DataPlaneProblems.WriteAsync(context, Rejection.StorageUnavailable, retryAfterSeconds: 1);
            return;
        }

        if (verification.Outcome != KeyVerificationOutcome.Verified && verification.Outcome != KeyVerificationOutcome.Suspended)
        {
            await DataPlaneProblems.WriteAsync(context, verification.Outcome switch
            {
                KeyVerificationOutcome.Missing => Rejection.MissingKey,
                KeyVerificationOutcome.Malformed => Rejection.MalformedKey,
                KeyVerificationOutcome.Revoked => Rejection.RevokedKey,
                _ => Rejection.UnknownKey,
            });
            return;
        }

        var caller = verification.Caller!;
        var routeGroup = RouteGroups.Of(context);
        if (verification.Outcome == KeyVerificationOutcome.Suspended)
        {
            await RejectAsync(context, caller, routeGroup, CallOutcome.RejectedSuspended, Rejection.Suspended);
            return;
        }

        if (!caller.Plan.Covers(routeGroup))
        {
            await RejectAsync(context, caller, routeGroup, CallOutcome.RejectedRouteNotInPlan, Rejection.RouteNotInPlan);
            return;
        }

        var rate = caller.RateLimit.TryTake(time.GetTimestamp());
        WriteRateLimitHeaders(context.Response.Headers, caller.RateLimit, rate);
        if (!rate.Allowed)
        {
            await RejectAsync(context, caller, routeGroup, CallOutcome.RejectedRateLimited, Rejection.RateLimited, rate.RetryAfterSeconds);
            return;
        }

        var now = time.GetUtcNow();
        var month = UsageCalendar.MonthOf(now);
        if (caller.QuotaPeriod(ledger, month).TryAdmit(caller.Plan) == QuotaDecision.Exhausted)
        {
            var untilNextMonth = (long)Math.Ceiling((UsageCalendar.MonthEnd(month) - now).TotalSeconds);
            await RejectAsync(context, caller, routeGroup, CallOutcome.RejectedQuotaExhausted, Rejection.QuotaExhausted, (int)Math.Min(untilNextMonth, int.MaxValue));
            return;
        }

        context.Features.Set(caller);
        try
        {
            await next(context);
        }
        finally
        {
            usage.Record(caller.CustomerId, caller.KeyId, routeGroup, CallOutcomes.FromStatusCode(context.Response.StatusCode));
        }
    }

    public static void WriteRateLimitHeaders(IHeaderDictionary headers, TokenBucket bucket, RateLimitDecision decision)
    {
        headers[LimitHeader] = HeaderValues.Number(bucket.Capacity);
        headers[RemainingHeader] = HeaderValues.Number(decision.Remaining);
        headers[ResetHeader] = HeaderValues.Number(decision.SecondsUntilFull);
    }

    private Task RejectAsync(HttpContext context, ApiCaller caller, string routeGroup, CallOutcome outcome, Rejection rejection, int retryAfterSeconds = 0)
    {
        usage.Record(caller.CustomerId, caller.KeyId, routeGroup, outcome);
        return DataPlaneProblems.WriteAsync(context, rejection, retryAfterSeconds);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Key storage is unavailable; answering 503.")]
    private static partial void LogStorageUnavailable(ILogger logger, Exception exception);
}
