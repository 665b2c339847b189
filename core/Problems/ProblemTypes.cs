namespace Gateway.Core.Problems;

/// <summary>
/// The stable <c>type</c> URIs of every RFC 9457 problem the gateway answers with, and the one title of each
/// (<see cref="Title"/>). Clients switch on the types; never change one once shipped. The README lists them with
/// their meaning.
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
    public const string RecordCapReached = Base + "record-cap-reached";
    public const string SpendCapReached = Base + "spend-cap-reached";

    // Admin API (port 8081)
    public const string InvalidRequest = Base + "invalid-request";
    public const string AdminUnauthorized = Base + "admin-unauthorized";
    public const string TooManySignIns = Base + "too-many-sign-ins";
    public const string NotFound = Base + "not-found";
    public const string Conflict = Base + "conflict";
    public const string BodyTooLarge = Base + "body-too-large";
    public const string Forbidden = Base + "forbidden";

    // Stripe webhook (admin port, /billing/stripe/webhook): the signature is the authentication
    public const string WebhookSignatureInvalid = Base + "webhook-signature-invalid";
    public const string WebhookMalformed = Base + "webhook-malformed";
    public const string WebhookApiVersionMismatch = Base + "webhook-api-version-mismatch";
    public const string WebhookInProgress = Base + "webhook-in-progress";
    public const string WebhookNotConfigured = Base + "webhook-not-configured";

    /// <summary>The title every response of <paramref name="type"/> carries, whichever code path writes it.</summary>
    public static string Title(string type) => type switch
    {
        MissingApiKey => "An API key is required.",
        MalformedApiKey => "The API key is malformed.",
        InvalidApiKey => "The API key is not valid.",
        RevokedApiKey => "The API key has been revoked.",
        KeySuspended => "The API key is suspended for non-payment.",
        RouteNotInPlan => "Your plan does not cover this API.",
        RateLimited => "Too many requests.",
        QuotaExhausted => "The monthly quota is used up.",
        RouteNotFound => "No such route.",
        StorageUnavailable => "Storage is unavailable.",
        UpstreamUnavailable => "The API behind the gateway could not be reached.",
        UpstreamTimeout => "The API behind the gateway did not answer in time.",
        MethodNotAllowed => "Method not allowed.",
        TooManyKeyLookups => "Too many new keys from your network.",
        RecordCapReached => "The licence's daily record cap is reached.",
        SpendCapReached => "The monthly spend cap is reached.",
        InvalidRequest => "The request is invalid.",
        AdminUnauthorized => "A token is required.",
        TooManySignIns => "Too many failed sign-ins.",
        Forbidden => "Your role does not allow this.",
        NotFound => "Not found.",
        Conflict => "The request conflicts with the current state.",
        BodyTooLarge => "The request body is too large.",
        WebhookSignatureInvalid => "The Stripe-Signature header does not sign this body (forged, expired or missing).",
        WebhookMalformed => "The webhook body is not a Stripe event.",
        WebhookApiVersionMismatch => "The event's API version is not the one this gateway reads.",
        WebhookInProgress => "This event is being handled by another delivery; retry later.",
        WebhookNotConfigured => "No webhook signing secret is configured.",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Not a problem type of this gateway."),
    };
}

/// <summary>An RFC 9457 problem as a value; hosts turn it into <c>application/problem+json</c>. Its title is its type's (<see cref="ProblemTypes.Title"/>).</summary>
public sealed record ApiProblem(string Type, int Status, string Detail)
{
    public string Title => ProblemTypes.Title(Type);

    /// <summary>Field name → messages, for validation problems.</summary>
    public IReadOnlyDictionary<string, string[]>? Errors { get; init; }

    public static ApiProblem Invalid(string field, string message) =>
        new(ProblemTypes.InvalidRequest, 400, $"{field}: {message}")
        {
            Errors = new Dictionary<string, string[]> { [field] = [message] },
        };

    public static ApiProblem BodyTooLarge(long limit) =>
        new(ProblemTypes.BodyTooLarge, 413, $"body: at most {limit} bytes are accepted.")
        {
            Errors = new Dictionary<string, string[]> { ["body"] = [$"must be at most {limit} bytes."] },
        };

    public static ApiProblem Conflict(string detail) => new(ProblemTypes.Conflict, 409, detail);

    public static ApiProblem NotFound(string what, string id) =>
        new(ProblemTypes.NotFound, 404, $"No {what.ToLowerInvariant()} has the id '{id}'.");
}

/// <summary>The result of a control-plane operation: a value, or the problem that prevented it.</summary>
public readonly record struct Outcome<T>(T? Value, ApiProblem? Problem)
{
    public bool Succeeded => Problem is null;

    public static implicit operator Outcome<T>(T value) => new(value, null);

    public static implicit operator Outcome<T>(ApiProblem problem) => new(default, problem);
}
