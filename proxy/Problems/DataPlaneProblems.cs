using System.Text.Json;
using Gateway.Core.Problems;


namespace Gateway.Proxy.Problems;

/// <summary>Why the data plane answered with a problem: a refusal, or no answer from the upstream. Each maps to exactly one problem type and status.</summary>
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
}

/// <summary>
/// The data plane's RFC 9457 responses. Bodies are serialized once at start and written as bytes, so refusing a
/// call (the cheap answer to abuse) stays cheap.
/// </summary>
public static class DataPlaneProblems
{
    public const string ContentType = "application/problem+json";

    /// <summary><c>X-Content-Type-Options</c> on every response the gateway writes itself: browsers must not sniff it as HTML.</summary>
    public const string NoSniff = "nosniff";

    private static readonly JsonSerializerOptions Json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly ApiProblem[] Known = [.. Enum.GetValues<Rejection>().Select(Describe)];
    private static readonly byte[][] Bodies = [.. Known.Select(Serialize)];

    public static ApiProblem Describe(Rejection rejection) => rejection switch
    {
        Rejection.MissingKey => new(ProblemTypes.MissingApiKey, "An API key is required.", 401,
            "Send your key as 'Authorization: Bearer <key>' or 'X-Api-Key: <key>'."),
        Rejection.MalformedKey => new(ProblemTypes.MalformedApiKey, "The API key is malformed.", 401,
            "The key is not in the format this gateway issues (or several different keys were sent). Check that it was copied whole."),
        Rejection.UnknownKey => new(ProblemTypes.InvalidApiKey, "The API key is not valid.", 401,
            "No active key matches the key sent."),
        Rejection.RevokedKey => new(ProblemTypes.RevokedApiKey, "The API key has been revoked.", 401,
            "This key was revoked and can no longer be used. Create a new key in the portal."),
        Rejection.Suspended => new(ProblemTypes.KeySuspended, "The API key is suspended for non-payment.", 402,
            "Calls resume once the outstanding invoice is paid."),
        Rejection.RouteNotInPlan => new(ProblemTypes.RouteNotInPlan, "Your plan does not cover this API.", 403,
            "This route belongs to an API product outside your plan's licence. Upgrade the plan to call it."),
        Rejection.RateLimited => new(ProblemTypes.RateLimited, "Too many requests.", 429,
            "The key's request rate is above its plan's limit. Retry after the number of seconds in Retry-After."),
        Rejection.QuotaExhausted => new(ProblemTypes.QuotaExhausted, "The monthly quota is used up.", 429,
            "The key has made all the calls its plan includes this UTC month. Calls resume on the 1st, or upgrade the plan."),
        Rejection.RouteNotFound => new(ProblemTypes.RouteNotFound, "No such route.", 404,
            "The gateway serves no API at this path and method."),
        Rejection.StorageUnavailable => new(ProblemTypes.StorageUnavailable, "The gateway cannot verify the key right now.", 503,
            "Key storage is unavailable. Retry shortly."),
        Rejection.UpstreamUnavailable => new(ProblemTypes.UpstreamUnavailable, "The API behind the gateway could not be reached.", 502,
            "The gateway could not get an answer from the API. The call is not billed and does not count against the quota; retry later."),
        Rejection.UpstreamTimeout => new(ProblemTypes.UpstreamTimeout, "The API behind the gateway did not answer in time.", 504,
            "The API did not answer within the gateway's time limit. The call is not billed and does not count against the quota; retry later."),
        Rejection.MethodNotAllowed => new(ProblemTypes.MethodNotAllowed, "Method not allowed.", 405,
            "This path does not accept this method. The Allow header lists the methods it accepts."),
        Rejection.TooManyKeyLookups => new(ProblemTypes.TooManyKeyLookups, "Too many new keys from your network.", 429,
            "Keys the gateway has not seen yet are checked against storage at a bounded rate per client network. Retry after the number of seconds in Retry-After."),
        _ => throw new ArgumentOutOfRangeException(nameof(rejection)),
    };

    public static int Status(Rejection rejection) => Known[(int)rejection].Status;

    public static Task WriteAsync(HttpContext context, Rejection rejection, int retryAfterSeconds = 0)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            return Task.CompletedTask;
        }

        response.StatusCode = Status(rejection);
        response.ContentType = ContentType;
        response.Headers.CacheControl = "no-store";
        response.Headers.XContentTypeOptions = NoSniff;
        if (response.StatusCode == 401)
        {
            response.Headers.WWWAuthenticate = "Bearer realm=\"gateway\"";
        }

        if (retryAfterSeconds > 0)
        {
            response.Headers.RetryAfter = HeaderValues.Number(retryAfterSeconds);
        }

        var body = Bodies[(int)rejection];
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body, 0, body.Length, context.RequestAborted);
    }

    /// <summary>405 with the <c>Allow</c> header a 405 must carry.</summary>
    public static Task WriteMethodNotAllowedAsync(HttpContext context, string allow)
    {
        if (!context.Response.HasStarted)
        {
            context.Response.Headers.Allow = allow;
        }

        return WriteAsync(context, Rejection.MethodNotAllowed);
    }

    private static byte[] Serialize(ApiProblem p) => JsonSerializer.SerializeToUtf8Bytes(
        new { type = p.Type, title = p.Title, status = p.Status, detail = p.Detail },
        Json);
}

/// <summary>Header values for small numbers, formatted once instead of on every response.</summary>
public static class HeaderValues
{
    private static readonly string[] Small = Enumerable.Range(0, 4096).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    public static string Number(long value) =>
        value >= 0 && value < Small.Length ? Small[value] : value.ToString(System.Globalization.CultureInfo.InvariantCulture);

}
