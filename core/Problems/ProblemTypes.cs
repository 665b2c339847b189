namespace Gateway.Core.Problems;

/// <summary>
/// The stable <c>type</c> URIs of every RFC 9457 problem the gateway answers with. Clients switch on these;
/// never change one once shipped. The README lists them with their meaning.
/// </summary>
public static class ProblemTypes
{
    private const string Base = "urn:gateway:problem:";

    // Data plane (port 8080)
    public const string MissingApiKey = Base + "missing-api-key";
    public const string MalformedApiKey = Base + "malformed-api-key";
    public const string InvalidApiKey = Base + "invalid-api-key";
    public const string RevokedApiKey = Base + "revoked-api-key";
    public const string KeySuspended = Base + "key-suspended";
    public const string RouteNotInPlan = Base + "route-not-in-plan";
    public const string RateLimited = Base + "rate-limited";
    public const string QuotaExhausted = Base + "quota-exhausted";
    public const string RouteNotFound = Base + "route-not-found";
    public const string StorageUnavailable = Base + "storage-unavailable";
    public const string UpstreamUnavailable = Base + "upstream-unavailable";
    public const string UpstreamTimeout = Base + "upstream-timeout";
    public const string MethodNotAllowed = Base + "method-not-allowed";
    public const string TooManyKeyLookups = Base + "too-many-key-lookups";

    // Admin API (port 8081)
    public const string InvalidRequest = Base + "invalid-request";
    public const string AdminUnauthorized = Base + "admin-unauthorized";
    public const string NotFound = Base + "not-found";
    public const string Conflict = Base + "conflict";
    public const string BodyTooLarge = Base + "body-too-large";
    public const string Forbidden = Base + "forbidden";
}

/// <summary>
/// The one <c>title</c> of each admin problem type: a title names the type, the <c>detail</c> says what happened.
/// </summary>
public static class ProblemTitles
{
    // Admin API (port 8081)
    public const string InvalidRequest = "The request is invalid.";
    public const string AdminUnauthorized = "A token is required.";
    public const string NotFound = "Not found.";
    public const string Conflict = "The request conflicts with the current state.";
    public const string BodyTooLarge = "The request body is too large.";
    public const string Forbidden = "Your role does not allow this.";
}

/// <summary>An RFC 9457 problem as a value; hosts turn it into <c>application/problem+json</c>.</summary>
public sealed record ApiProblem(string Type, string Title, int Status, string Detail)
{
    /// <summary>Field name → messages, for validation problems.</summary>
    public IReadOnlyDictionary<string, string[]>? Errors { get; init; }

    public static ApiProblem Invalid(string field, string message) =>
        new(ProblemTypes.InvalidRequest, ProblemTitles.InvalidRequest, 400, $"{field}: {message}")
        {
            Errors = new Dictionary<string, string[]> { [field] = [message] },
        };

    public static ApiProblem BodyTooLarge(long limit) =>
        new(ProblemTypes.BodyTooLarge, ProblemTitles.BodyTooLarge, 413, $"body: at most {limit} bytes are accepted.")
        {
            Errors = new Dictionary<string, string[]> { ["body"] = [$"must be at most {limit} bytes."] },
        };

    public static ApiProblem Conflict(string detail) => new(ProblemTypes.Conflict, ProblemTitles.Conflict, 409, detail);

    public static ApiProblem NotFound(string what, string id) =>
        new(ProblemTypes.NotFound, ProblemTitles.NotFound, 404, $"No {what.ToLowerInvariant()} has the id '{id}'.");
}

/// <summary>The result of a control-plane operation: a value, or the problem that prevented it.</summary>
public readonly record struct Outcome<T>(T? Value, ApiProblem? Problem)
{
    public bool Succeeded => Problem is null;

    public static implicit operator Outcome<T>(T value) => new(value, null);

    public static implicit operator Outcome<T>(ApiProblem problem) => new(default, problem);
}
