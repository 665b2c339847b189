using Gateway.Compliance;

namespace Gateway.Tests.Compliance;

/// <summary>The distinct-records sketch (HyperLogLog, ±1.6 %) and the per key-day Bloom filter (under 1 % at 74,752 ids), seed-fixed.</summary>
public sealed class RecordSketchTests
{
    [Theory]
    [InlineData(100)]
    [InlineData(5_000)]
    [InlineData(200_000)]
    public void Estimate_OfDistinctIdsAddedTwice_IsWithinThreeStandardErrors(int distinct)
    {
        var sketch = new RecordSketch();
        var ids = Ids(distinct, seed: distinct);
        foreach (var id in ids.Concat(ids))
        {
            sketch.Add(id);
        }

        var error = Math.Abs(sketch.Estimate() - distinct) / (double)distinct;
        Assert.True(error <= 3 * RecordSketch.StandardError, $"{sketch.Estimate()} for {distinct}: {error:P2}");
    }

    [Fact]
    public void Merge_OfTwoOverlappingSketches_EstimatesTheUnion_AndSurvivesStorage()
    {
        var a = new RecordSketch();
        var b = new RecordSketch();
        var ids = Ids(30_000, seed: 7);
        foreach (var id in ids.Take(20_000))
        {
            a.Add(id);
        }

        foreach (var id in ids.Skip(10_000))
        {
            b.Add(id);
        }

        var union = HourEvidence.Union(RecordSketch.FromBytes(a.ToBytes()), b)!;
        Assert.InRange(union.Estimate(), 30_000 * (1 - (3 * RecordSketch.StandardError)), 30_000 * (1 + (3 * RecordSketch.StandardError)));
    }

    [Fact]
    public void Filter_AtItsCapacity_HasNoFalseNegative_AndAFalsePositiveRateUnderTheStatedOne()
    {
        var filter = new RecordFilter();
        var added = Ids(RecordFilter.Capacity, seed: 1);
        foreach (var id in added)
        {
            filter.Add(id);
        }

        Assert.All(added, id => Assert.True(filter.Contains(id)));
        var probes = Ids(200_000, seed: 2);
        var falsePositives = probes.Count(filter.Contains);
        var measured = falsePositives / 200_000.0;
        Assert.True(measured < RecordFilter.StatedFalsePositiveRate, $"measured {measured:P3}");
        // The rate the lookup reports (from the bits set) agrees with the measured one.
        Assert.InRange(filter.FalsePositiveRate(), measured * 0.7, measured * 1.3);
        Assert.Equal(3, filter.Slices.Count);
    }

    [Fact]
    public void Filter_OfFewIds_StaysSmall_AndReadsBackFromItsSlices()
    {
        var filter = new RecordFilter();
        foreach (var id in Ids(500, seed: 3))
        {
            filter.Add(id);
        }

        Assert.Equal(1_416, filter.Slices.Sum(s => s.Length * 8));
        var copy = RecordFilter.FromSlices(filter.Slices, filter.Count)!;
        Assert.All(Ids(500, seed: 3), id => Assert.True(copy.Contains(id)));
        Assert.True(copy.FalsePositiveRate() < 0.001);
    }

    private static List<ulong> Ids(int count, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(i => RecordIdReader.Hash($"record-{seed}-{i}-{random.Next()}"))];
    }
}
