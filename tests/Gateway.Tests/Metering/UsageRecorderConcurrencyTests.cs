using Gateway.Core;
using Gateway.Core.Usage;
using Gateway.Proxy.Metering;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Metering;

/// <summary>
/// The in-memory counters straight from many threads at once: a non-atomic increment, or a cell created twice, loses
/// counts on every run (the HTTP-level test in ExactMeteringTests has too little contention to catch it every time).
/// </summary>
[Collection(Contention.Collection)]
public sealed class UsageRecorderConcurrencyTests
{
    private const int Rounds = 3;

    [Fact]
    public void Counter_IncrementedFromManyThreadsAtOnce_CountsEveryIncrement()
    {
        FlushableCount counter = null!;
        var lost = new List<long>();

        Contention.Run(
            Rounds,
            prepare: _ => counter = new FlushableCount(),
            step: (_, _) => counter.Increment,
            check: (_, steps) => lost.Add(steps.Sum() - counter.Count));

        Assert.True(lost.All(l => l == 0), $"Increments lost per round: {string.Join(", ", lost)}");
    }

    [Fact]
    public void Record_FromManyThreadsIntoNewCells_CountsEveryCallInItsCell()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 30, 23, 0, 0, TimeSpan.Zero));
        UsageRecorder recorder = null!;
        var wrong = new List<string>();

        Contention.Run(
            Rounds,
            // A new recorder every round, so the threads race to create the cells as well as to count in them.
            prepare: _ => recorder = new UsageRecorder(Options.Create(new GatewayOptions()), time),
            step: (_, thread) =>
            {
                var i = thread;
                return () =>
                {
                    i++;
                    recorder.Record("cus_1", "key_1", i % 2 == 0 ? "alpha" : "beta", i % 3 == 0 ? CallOutcome.Status2xx : CallOutcome.RejectedRateLimited);
                };
            },
            check: (round, steps) =>
            {
                var counted = recorder.Cells.Sum(c => c.Value.Count);
                if (counted != steps.Sum() || recorder.Cells.Count() != 4)
                {
                    wrong.Add($"round {round}: {counted} of {steps.Sum()} counted in {recorder.Cells.Count()} cells");
                }
            });

        Assert.True(wrong.Count == 0, string.Join("; ", wrong));
    }
}
