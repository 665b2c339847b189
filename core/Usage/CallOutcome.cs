namespace Gateway.Core.Usage;

/// <summary>
/// How a counted call ended: the status class the upstream answered with, or the reason the gateway refused it.
/// Forwarded outcomes are billable calls; rejections are counted separately and never billed.
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
}

public static class CallOutcomes
{
    private static readonly string[] Names =
    [
        "1xx", "2xx", "3xx", "4xx", "5xx",
        "rejected-route-not-in-plan", "rejected-rate-limited", "rejected-quota-exhausted", "rejected-suspended",
    ];

    /// <summary>The name stored in Table Storage and shown in usage reports.</summary>
    public static string Name(this CallOutcome outcome) => Names[(int)outcome];

    public static bool IsForwarded(this CallOutcome outcome) => outcome <= CallOutcome.Status5xx;

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
