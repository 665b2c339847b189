using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// Runs one step over and over on several threads at once, round after round, until the threads have been seen
/// running at the same moment on different cores, so that a non-atomic read-modify-write in the code under test
/// loses updates on every run, not once in a while. A single instruction such as <c>inc [count]</c> cannot lose an
/// update on one core, however often the thread is preempted, so taking turns on a busy machine proves nothing:
/// a round lasts until true parallelism has been witnessed (see <see cref="Overlap"/>), or a time limit.
/// Threads wait for a round by spinning on a start signal, never sleeping, so those on a core start together.
/// </summary>
public static class Contention
{
    /// <summary>The xunit collection of tests that use this: run one at a time, so they do not fight each other for cores.</summary>
    public const string Collection = "Contention";

    /// <summary>More threads than cores, so that some of them are on every core whatever else the machine runs.</summary>
    public static int Threads { get; } = Math.Max(4, Environment.ProcessorCount * 2);

    /// <summary>Steps between two looks at the other threads.</summary>
    private const int Stride = 64;

    /// <summary>Strides every thread makes in a round at least.</summary>
    private const int MinimumStrides = 16;

    /// <summary>Strides per round that must end while another thread was on a core at the same time.</summary>
    private const int OverlapsPerRound = 100;

    /// <summary>
    /// A thread whose consecutive strides end less than this apart was on a core all along (preemption takes a
    /// scheduler slice, milliseconds); another thread that ended a stride in that span was on another core meanwhile.
    /// </summary>
    private static readonly long Overlap = Stopwatch.Frequency / 5_000;

    private static readonly TimeSpan RoundLimit = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RunLimit = TimeSpan.FromSeconds(60);

    private const int Stopped = int.MaxValue;

    /// <summary>
    /// Runs rounds until <paramref name="rounds"/> of them saw the threads run in parallel. Before a round,
    /// <paramref name="prepare"/>(round) runs alone; then every thread repeats the step that <paramref name="step"/>(round,
    /// thread) returns; then <paramref name="check"/>(round, steps each thread made) runs alone.
    /// </summary>
    public static void Run(int rounds, Action<int> prepare, Func<int, int, Action> step, Action<int, long[]> check)
    {
        var started = -1;
        var ready = 0;
        var finished = 0;
        var overlaps = 0;
        var strides = new long[Threads];
        var steps = new long[Threads];
        var roundStart = 0L;
        Exception? failure = null;

        var threads = Enumerable.Range(0, Threads).Select(index => new Thread(() =>
        {
            for (var round = 0; ; round++)
            {
                Interlocked.Increment(ref ready);
                SpinUntil(() => Volatile.Read(ref started) >= round);
                if (Volatile.Read(ref started) == Stopped)
                {
                    return;
                }

                try
                {
                    steps[index] = Repeat(step(round, index), index, strides, ref overlaps, Volatile.Read(ref roundStart));
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref failure, e, null);
                }

                Interlocked.Increment(ref finished);
            }
        })
        { IsBackground = true }).ToList();
        threads.ForEach(t => t.Start());

        var parallelRounds = 0;
        var run = Stopwatch.StartNew();
        try
        {
            for (var round = 0; parallelRounds < rounds && run.Elapsed < RunLimit && failure is null; round++)
            {
                SpinUntil(() => Volatile.Read(ref ready) == Threads);
                Volatile.Write(ref ready, 0);
                prepare(round);
                Array.Clear(strides);
                Volatile.Write(ref overlaps, 0);
                Volatile.Write(ref roundStart, Stopwatch.GetTimestamp());
                Volatile.Write(ref started, round);
                SpinUntil(() => Volatile.Read(ref finished) == Threads);
                Volatile.Write(ref finished, 0);
                check(round, [.. steps]);
                if (Volatile.Read(ref overlaps) >= OverlapsPerRound)
                {
                    parallelRounds++;
                }
            }
        }
        finally
        {
            Volatile.Write(ref started, Stopped);
            threads.ForEach(t => t.Join());
        }

        if (failure is not null)
        {
            ExceptionDispatchInfo.Throw(failure);
        }

        Assert.True(
            parallelRounds >= rounds,
            $"Inconclusive: in {RunLimit.TotalSeconds} s only {parallelRounds} of {rounds} rounds ran threads on two cores at once (machine too busy).");
    }

    /// <summary>Repeats the step in strides until this round has seen enough parallel strides from every thread, or its time is up.</summary>
    private static long Repeat(Action step, int index, long[] strides, ref int overlaps, long roundStart)
    {
        long mine = 0;
        var last = Stopwatch.GetTimestamp();
        var othersLast = OthersStrides(strides, index);
        while (true)
        {
            for (var i = 0; i < Stride; i++)
            {
                step();
            }

            mine += Stride;
            Volatile.Write(ref strides[index], mine / Stride);
            var now = Stopwatch.GetTimestamp();
            var others = OthersStrides(strides, index);
            if (now - last < Overlap && others != othersLast)
            {
                Interlocked.Increment(ref overlaps);
            }

            last = now;
            othersLast = others;
            if ((Volatile.Read(ref overlaps) >= OverlapsPerRound && EveryoneMade(strides, MinimumStrides))
                || Stopwatch.GetElapsedTime(roundStart, now) > RoundLimit)
            {
                return mine;
            }
        }
    }

    private static long OthersStrides(long[] strides, int index)
    {
        long sum = 0;
        for (var i = 0; i < strides.Length; i++)
        {
            sum += i == index ? 0 : Volatile.Read(ref strides[i]);
        }

        return sum;
    }

    private static bool EveryoneMade(long[] strides, long minimum)
    {
        for (var i = 0; i < strides.Length; i++)
        {
            if (Volatile.Read(ref strides[i]) < minimum)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Spins, yielding the core now and then but never sleeping, so a released thread is running already.</summary>
    private static void SpinUntil(Func<bool> condition)
    {
        var spinner = new SpinWait();
        while (!condition())
        {
            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }
}

[CollectionDefinition(Contention.Collection)]
public sealed class UsesAllCores
{
}
