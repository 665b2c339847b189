using Gateway.Core.Usage;

namespace Gateway.Core.Plans;

/// <summary>
/// A plan's billable set: the upstream answers (<see cref="CallOutcomes.IsUpstreamAnswer"/>) that are billed and use
/// the monthly quota, one set for both, so a call admitted against the quota that ends up outside it gives its place
/// back. Written in configuration as outcome names (<c>Gateway:Plans:{name}:Billable</c>): <c>1xx</c>, <c>2xx</c>,
/// <c>3xx</c>, <c>4xx</c> (every 4xx but 429), <c>429</c>, <c>5xx</c>. Gateway refusals, gateway errors and calls the
/// client left are never billable, whatever a plan says. Immutable.
/// </summary>
public sealed class BillableOutcomes
{
    /// <summary>The names a plan may list, in order.</summary>
    public static readonly IReadOnlyList<string> Choices =
        [.. new[] { CallOutcome.Status1xx, CallOutcome.Status2xx, CallOutcome.Status3xx, CallOutcome.Status4xx, CallOutcome.Status429, CallOutcome.Status5xx }.Select(o => o.Name())];

    // Declared after Choices, which its constructor reads: static fields are initialised in order.
    /// <summary>Issue #11's default: 2xx, 3xx and 4xx other than 429; never 5xx.</summary>
    public static readonly BillableOutcomes Default = new([CallOutcome.Status2xx, CallOutcome.Status3xx, CallOutcome.Status4xx]);

    private readonly uint _mask;

    private BillableOutcomes(IEnumerable<CallOutcome> outcomes)
    {
        foreach (var outcome in outcomes)
        {
            _mask |= 1u << (int)outcome;
        }

        Names = [.. Choices.Where(c => CallOutcomes.TryParse(c, out var o) && Contains(o))];
    }

    /// <summary>The set's outcome names, in the order of <see cref="Choices"/>.</summary>
    public IReadOnlyList<string> Names { get; }

    public bool Contains(CallOutcome outcome) => (_mask & (1u << (int)outcome)) != 0;

    /// <summary>
    /// The set a plan's configuration names: <c>null</c> is <see cref="Default"/>; otherwise every name must be one of
    /// <see cref="Choices"/> (case-insensitive), else <paramref name="error"/> says which is not (the text that follows the setting's name).
    /// </summary>
    public static BillableOutcomes? Parse(IReadOnlyList<string?>? names, out string? error)
    {
        error = null;
        if (names is null)
        {
            return Default;
        }

        var outcomes = new List<CallOutcome>();
        for (var i = 0; i < names.Count; i++)
        {
            var name = names[i]?.Trim().ToLowerInvariant() ?? "";
            if (!Choices.Contains(name) || !CallOutcomes.TryParse(name, out var outcome))
            {
                error = $":{i} '{names[i]}' must be one of {string.Join(", ", Choices)} (upstream answers only; '4xx' is every 4xx but 429).";
                return null;
            }

            outcomes.Add(outcome);
        }

        if (outcomes.Count == 0)
        {
            error = $" must name at least one of {string.Join(", ", Choices)}, or be left out for the default ({string.Join(", ", Default.Names)}).";
            return null;
        }

        return new BillableOutcomes(outcomes);
    }
}
