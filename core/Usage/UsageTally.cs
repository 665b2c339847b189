namespace Gateway.Core.Usage;

/// <summary>
/// The totals of a usage answer: every counted call lands in exactly one of them, by its outcome and the billable set
/// of its key's plan (<see cref="BillableCalls"/>). Used by the usage API, the usage overview and compliance reports,
/// so they all count alike. Not thread-safe: one tally per answer.
/// </summary>
public sealed class UsageTally(BillableCalls billable)
{
    /// <summary>Billable calls: upstream answers in the key's plan's billable set.</summary>
    public long Total { get; private set; }

    /// <summary>Upstream answers outside the billable set (by default 5xx and upstream 429s).</summary>
    public long UpstreamNotBilled { get; private set; }

    /// <summary>Gateway refusals.</summary>
    public long Rejected { get; private set; }

    public long GatewayErrors { get; private set; }

    public long ClientAborted { get; private set; }

    public void Add(string keyId, CallOutcome outcome, long count)
    {
        if (billable.IsBilled(keyId, outcome))
        {
            Total += count;
        }
        else if (outcome.IsUpstreamAnswer())
        {
            UpstreamNotBilled += count;
        }
        else if (outcome == CallOutcome.GatewayError)
        {
            GatewayErrors += count;
        }
        else if (outcome == CallOutcome.ClientAborted)
        {
            ClientAborted += count;
        }
        else
        {
            Rejected += count;
        }
    }
}
