namespace Gateway.Tests.Infrastructure;

/// <summary>
/// The calendar every test gateway sees unless a test injects its own clock: real time, moved so that the test run
/// starts at noon UTC on 15 June 2030 (far from any real date the suite runs on, so code that reads the system clock
/// instead of the injected one shows up as a wrong month). Timers, delays and timestamps stay real (flushes and refreshes run as in
/// production), but the date no longer depends on when the suite runs: a run that the machine starts just before a
/// UTC midnight or the first of a month sees neither, so counts, default usage ranges (the current UTC month) and
/// quota periods cannot change under a test. Tests about period boundaries use a <c>FakeTimeProvider</c> instead.
/// </summary>
public sealed class TestClock : TimeProvider
{
    public static readonly DateTimeOffset RunStart = new(2030, 6, 15, 12, 0, 0, TimeSpan.Zero);

    public static TestClock Instance { get; } = new();

    private readonly TimeSpan _shift = RunStart - System.GetUtcNow();

    private TestClock()
    {
    }

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + _shift;
}
