namespace Gateway.Core.Usage;

/// <summary>
/// How a counted call ended: the status class the upstream answered with, the reason the gateway refused it, or
/// why a forwarded call got no answer from the upstream. Only upstream answers can be billable and use quota, and
/// only those in the key's plan's billable set (<see cref="Plans.BillableOutcomes"/>). Values are stored by name (<see cref="CallOutcomes.Name"/>); new ones are appended, never inserted or renamed.
/// </summary>
public enum CallOutcome : byte
{
    Status1xx,
    Status2xx,
    Status3xx,
    Status4xx,
    Status5xx,
    RejectedRouteNotInPlan,
    RejectedRateLimited,
    RejectedQuotaExhausted,
    RejectedSuspended,

    /// <summary>
    /// Forwarded, but the upstream gave no whole answer: it could not be reached, did not answer in time, or broke
    /// off mid-answer. The caller got a 502/504 problem (or, if the answer had begun, a truncated response).
    /// </summary>
    GatewayError,

    /// <summary>Forwarded, but the caller went away (or its request body failed) before the upstream answered.</summary>
    ClientAborted,

    /// <summary>Refused: the key received its licence's daily record cap today (UTC).</summary>
    RejectedRecordCap,

    /// <summary>Refused: the customer's monthly spend cap allows no more overage this UTC month (never billed).</summary>
    RejectedSpendCap,

    /// <summary>The upstream answered 429 Too Many Requests: an upstream answer kept apart from <see cref="Status4xx"/>
    /// (which holds every other 4xx), so a plan can leave it unbilled (the default does).</summary>
    Status429,
}

public static class CallOutcomes
{
    private static readonly string[] Names =
    [
        "1xx", "2xx", "3xx", "4xx", "5xx",
        "rejected-route-not-in-plan", "rejected-rate-limited", "rejected-quota-exhausted", "rejected-suspended",
        "gateway-error", "client-aborted", "rejected-record-cap",
        "rejected-spend-cap", "429",
    ];

    /// <summary>The name stored in Table Storage and shown in usage reports.</summary>
    public static string Name(this CallOutcome outcome) => Names[(int)outcome];

    /// <summary>The upstream answered: a status class, or its 429.</summary>
    public static bool IsUpstreamAnswer(this CallOutcome outcome) => outcome is <= CallOutcome.Status5xx or CallOutcome.Status429;

    public static CallOutcome FromStatusCode(int statusCode) => statusCode switch
    {
        < 200 => CallOutcome.Status1xx,
        < 300 => CallOutcome.Status2xx,
        < 400 => CallOutcome.Status3xx,
        429 => CallOutcome.Status429,
        < 500 => CallOutcome.Status4xx,
        _ => CallOutcome.Status5xx,
    };

    public static bool TryParse(string name, out CallOutcome outcome)
    {
        var index = Array.IndexOf(Names, name);
        outcome = (CallOutcome)Math.Max(index, 0);
        return index >= 0;
    }
}
