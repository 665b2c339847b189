using Gateway.Core.Problems;
using Gateway.Core.Usage;

namespace Gateway.Proxy.Problems;

/// <summary>
/// Why the data plane answered with its own problem instead of the upstream's answer: a refusal (of a key, of a
/// call by a known key), or no answer from the upstream. The one vocabulary for it: key verification, admission,
/// the developer endpoint and forwarding all speak it, and <see cref="Rejections"/> says once what each means.
/// </summary>
public enum Rejection
{
    MissingKey,
    MalformedKey,
    UnknownKey,
    RevokedKey,
    Suspended,
    RouteNotInPlan,
    RateLimited,
    QuotaExhausted,
    RouteNotFound,
    StorageUnavailable,
    UpstreamUnavailable,
    UpstreamTimeout,
    MethodNotAllowed,
    TooManyKeyLookups,
    RecordCapReached,
    SpendCapReached,
}

/// <summary>
/// What a <see cref="Rejection"/> means: the problem the caller gets (type, status, detail; the title is the type's) and, for a call by
/// a known key, the <see cref="CallOutcome"/> it is counted as. <c>null</c>: not counted, there is no known key (or
/// no route) to count it against.
/// </summary>
public sealed record RejectionMeaning(ApiProblem Problem, CallOutcome? CountedAs);

/// <summary>The only place a <see cref="Rejection"/> is mapped to its problem and its counted outcome.</summary>
public static class Rejections
{
    private static readonly RejectionMeaning[] Meanings = [.. Enum.GetValues<Rejection>().Select(Define)];

    public static RejectionMeaning Meaning(this Rejection rejection) => Meanings[(int)rejection];

    public static ApiProblem Problem(this Rejection rejection) => Meanings[(int)rejection].Problem;

    public static int Status(this Rejection rejection) => Meanings[(int)rejection].Problem.Status;

    /// <summary>The outcome a call refused for this reason is counted as; <c>null</c> when it is not counted.</summary>
    public static CallOutcome? CountedAs(this Rejection rejection) => Meanings[(int)rejection].CountedAs;

    private static RejectionMeaning Define(Rejection rejection) => rejection switch
    {
        Rejection.MissingKey => new(new(ProblemTypes.MissingApiKey, 401,
            "Send your key as 'Authorization: Bearer <key>' or 'X-Api-Key: <key>'."), null),
        Rejection.MalformedKey => new(new(ProblemTypes.MalformedApiKey, 401,
            "The key is not in the format this gateway issues (or several different keys were sent). Check that it was copied whole."), null),
        Rejection.UnknownKey => new(new(ProblemTypes.InvalidApiKey, 401,
            "No active key matches the key sent."), null),
        Rejection.RevokedKey => new(new(ProblemTypes.RevokedApiKey, 401,
            "This key was revoked and can no longer be used. Create a new key in the portal."), null),
        Rejection.Suspended => new(new(ProblemTypes.KeySuspended, 402,
            "Calls resume once the outstanding invoice is paid."), CallOutcome.RejectedSuspended),
        Rejection.RouteNotInPlan => new(new(ProblemTypes.RouteNotInPlan, 403,
            "This route belongs to an API product outside your plan's licence. Upgrade the plan to call it."), CallOutcome.RejectedRouteNotInPlan),
        Rejection.RateLimited => new(new(ProblemTypes.RateLimited, 429,
            "The key's request rate is above its plan's limit. Retry after the number of seconds in Retry-After."), CallOutcome.RejectedRateLimited),
        Rejection.QuotaExhausted => new(new(ProblemTypes.QuotaExhausted, 429,
            "The key has made all the calls its plan includes this UTC month. Calls resume on the 1st, or upgrade the plan."), CallOutcome.RejectedQuotaExhausted),
        Rejection.RouteNotFound => new(new(ProblemTypes.RouteNotFound, 404,
            "The gateway serves no API at this path and method."), null),
        Rejection.StorageUnavailable => new(new(ProblemTypes.StorageUnavailable, 503,
            "The gateway cannot verify the key right now: key storage is unavailable. Retry shortly."), null),
        Rejection.UpstreamUnavailable => new(new(ProblemTypes.UpstreamUnavailable, 502,
            "The gateway could not get an answer from the API. The call is not billed and does not count against the quota; retry later."), CallOutcome.GatewayError),
        Rejection.UpstreamTimeout => new(new(ProblemTypes.UpstreamTimeout, 504,
            "The API did not answer within the gateway's time limit. The call is not billed and does not count against the quota; retry later."), CallOutcome.GatewayError),
        Rejection.MethodNotAllowed => new(new(ProblemTypes.MethodNotAllowed, 405,
            "This path does not accept this method. The Allow header lists the methods it accepts."), null),
        Rejection.TooManyKeyLookups => new(new(ProblemTypes.TooManyKeyLookups, 429,
            "Keys the gateway has not seen yet are checked against storage at a bounded rate per client network. Retry after the number of seconds in Retry-After."), null),
        Rejection.RecordCapReached => new(new(ProblemTypes.RecordCapReached, 429,
            "The key has received all the records its licence allows this UTC day. Calls resume at the next UTC midnight (Retry-After); the call is not billed."), CallOutcome.RejectedRecordCap),
        Rejection.SpendCapReached => new(new(ProblemTypes.SpendCapReached, 429,
            "The customer's monthly spend cap allows no more overage this UTC month. Calls resume on the 1st (Retry-After), or raise the cap; the call is not billed."), CallOutcome.RejectedSpendCap),
        _ => throw new ArgumentOutOfRangeException(nameof(rejection)),
    };
}
