using Gateway.Core.Usage;

namespace Gateway.Billing;

/// <summary>
/// Which counted calls are billed: forwarded calls the upstream answered with 2xx, 3xx or 4xx (issue #11's default),
/// never a 5xx, a 1xx, a gateway refusal, a gateway error or a call the client left. The default excludes 429 too,
/// but the usage ledger stores status classes only (<see cref="CallOutcome.Status4xx"/>), so an upstream 429 cannot
/// be told apart and is billed like any 4xx until the ledger records it separately.
/// </summary>
public static class BillableCalls
{
    public static bool IsBilled(CallOutcome outcome) =>
        outcome is CallOutcome.Status2xx or CallOutcome.Status3xx or CallOutcome.Status4xx;
}
