namespace Gateway.Core.Usage;

/// <summary>
/// How a counted call ended: the status class the upstream answered with, the reason the gateway refused it, or
/// why a forwarded call got no answer from the upstream. Only upstream answers are billable and use quota.
/// Values are stored by name (<see cref="CallOutcomes.Name"/>); new ones are appended, never inserted or renamed.
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
}

public static class CallOutcomes
{
    private static readonly string[] Names =
    [
        "1xx", "2xx", "3xx", "4xx", "5xx",
        "rejected-route-not-in-plan", "rejected-rate-limited", "rejected-quota-exhausted", "rejected-suspended",
        "gateway-error", "client-aborted", "rejected-record-cap",
        "rejected-spend-cap",
    ];

    /// <summary>The name stored in Table Storage and shown in usage reports.</summary>
    public static string Name(this CallOutcome outcome) => Names[(int)outcome];

    /// <summary>The upstream answered: a status class.</summary>
    public static bool IsUpstreamAnswer(this CallOutcome outcome) => outcome <= CallOutcome.Status5xx;

    /// <summary>
    /// Billed, and counted against the monthly quota: the same set, so a call admitted against the quota that ends
    /// up not billable gives its quota back. Today every upstream answer; the billing issue (#11) makes the set
    /// configurable per plan.
    /// </summary>
    public static bool IsBillable(this CallOutcome outcome) => outcome.IsUpstreamAnswer();

    public static CallOutcome FromStatusCode(int statusCode) => statusCode switch
    {
        < 200 => CallOutcome.Status1xx,
        < 300 => CallOutcome.Status2xx,
        < 400 => CallOutcome.Status3xx,
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
