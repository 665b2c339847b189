using System.Text;
using Gateway.Compliance;

namespace Gateway.Tests.Compliance;

/// <summary>Record ids read from JSON as it streams, whatever the chunk boundaries, without allocating.</summary>
public sealed class RecordIdReaderTests
{
    /// <summary>Ids at <c>$.data[*].id</c> among decoys: ids at other depths, a nested <c>data</c>, an escaped id, a number id, ids in objects that are not elements.</summary>
    private const string Body = """
        {"meta":{"id":"meta-1","data":[{"id":"decoy-1"}]},
         "data":[
           {"id":"post-1","user":{"id":"user-1"},"tags":["id","x"]},
           {"text":"no id here","id":"post-2"},
           {"id":"po\u0073t-3"},
           {"id":4242, "replies":[{"id":"reply-1"}]},
           {"id":{"nested":"not an id"}},
           {"id":"post-\"5\""}
         ],
         "id":"top-level"}
        """;

    private static readonly string[] Expected = ["post-1", "post-2", "post-3", "4242", "post-\"5\""];

    [Fact]
    public void Read_OfABodySplitInTwoAtEveryByte_FindsExactlyTheIdsAtThePath()
    {
        var bytes = Encoding.UTF8.GetBytes(Body);
        for (var split = 0; split <= bytes.Length; split++)
        {
            var ids = ReadInChunks(bytes, [split]);
            Assert.True(Hashes(Expected).SequenceEqual(ids), $"split at {split}: {ids.Count} ids");
        }
    }

    [Fact]
    public void Read_OfABodyInOneByteChunks_FindsExactlyTheIdsAtThePath()
    {
        var bytes = Encoding.UTF8.GetBytes(Body);
        Assert.Equal(Hashes(Expected), ReadInChunks(bytes, [.. Enumerable.Range(1, bytes.Length - 1)]));
    }

    [Theory]
    [InlineData("$[*].id", """[{"id":"a"},{"id":"b","x":{"id":"c"}}]""", "a,b")]
    [InlineData("$.id", """{"x":{"id":"no"},"id":"yes"}""", "yes")]
    [InlineData("$.items[*]", """{"items":["a","b",3,{"c":1}]}""", "a,b,3")]
    [InlineData("$.data[*].id", """{"data":{"id":"object, not array"}}""", "")]
    [InlineData("$.a.b[*].c", """{"a":{"b":[{"c":"x"},{"c":"y"}],"c":"no"}}""", "x,y")]
    public void Read_OfEachPathShape_FindsItsIds(string path, string json, string expected)
    {
        Assert.True(RecordIdPath.TryParse(path, out var parsed, out _));
        var sink = new Collected();
        var reader = new RecordIdReader();
        reader.Start(parsed, sink);
        Assert.True(reader.Feed(Encoding.UTF8.GetBytes(json)));
        reader.Finish();
        Assert.Equal(Hashes(expected.Split(',', StringSplitOptions.RemoveEmptyEntries)), sink.Ids);
    }

    [Theory]
    [InlineData("")]
    [InlineData("data[*].id")]
    [InlineData("$..id")]
    [InlineData("$.data[0].id")]
    [InlineData("$.")]
    [InlineData("$['id']")]
    public void Parse_OfAPathOutsideTheSubset_IsRefused(string path) =>
        Assert.False(RecordIdPath.TryParse(path, out _, out _));

    [Fact]
    public void Read_OfMalformedJson_StopsThere_KeepingTheIdsBefore()
    {
        Assert.True(RecordIdPath.TryParse("$.data[*].id", out var path, out _));
        var sink = new Collected();
        var reader = new RecordIdReader();
        reader.Start(path, sink);
        Assert.True(reader.Feed("{\"data\":[{\"id\":\"a\"},{\"id\":\"b\"},"u8));
        Assert.False(reader.Feed("{\"id\": ]}"u8));
        Assert.False(reader.Feed("{\"id\":\"c\"}]}"u8));
        Assert.Equal(2, reader.Finish());
        Assert.True(reader.Failed);
        Assert.Equal(Hashes(["a", "b"]), sink.Ids);
    }

    [Fact]
    public void Read_OfA2KBBodyInThreeChunks_AllocatesNothing()
    {
        var bytes = Encoding.UTF8.GetBytes(TypicalBody(40));
        Assert.InRange(bytes.Length, 1_800, 2_600);
        Assert.True(RecordIdPath.TryParse("$.data[*].id", out var path, out _));
        var sink = new Counting();
        var reader = new RecordIdReader();
        int[] splits = [700, 1_401, bytes.Length];
        for (var i = 0; i < 100; i++)
        {
            Feed(reader, path, sink, bytes, splits);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1_000; i++)
        {
            Feed(reader, path, sink, bytes, splits);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(1_100 * 40, sink.Count);
    }

    /// <summary>A typical page of a social-posts API: about 2 KB with <paramref name="records"/> records.</summary>
    public static string TypicalBody(int records, int first = 0) =>
        "{\"data\":[" + string.Join(",", Enumerable.Range(first, records).Select(i => $"{{\"id\":\"post-{i:D6}\",\"user\":{{\"id\":\"u{i % 7}\"}},\"likes\":{i % 97}}}"))
        + "],\"meta\":{\"next\":\"cursor-abcdef\",\"count\":" + records + "}}";

    private static void Feed(RecordIdReader reader, RecordIdPath path, IRecordIdSink sink, byte[] bytes, int[] splits)
    {
        reader.Start(path, sink);
        var at = 0;
        foreach (var split in splits)
        {
            reader.Feed(bytes.AsSpan(at, split - at));
            at = split;
        }

        reader.Finish();
    }

    private static List<ulong> ReadInChunks(byte[] bytes, int[] splits)
    {
        Assert.True(RecordIdPath.TryParse("$.data[*].id", out var path, out _));
        var sink = new Collected();
        var reader = new RecordIdReader();
        Feed(reader, path, sink, bytes, [.. splits, bytes.Length]);
        Assert.False(reader.Failed);
        return sink.Ids;
    }

    private static List<ulong> Hashes(IEnumerable<string> ids) => [.. ids.Select(RecordIdReader.Hash)];

    private sealed class Collected : IRecordIdSink
    {
        public List<ulong> Ids { get; } = [];

        public void Delivered(ReadOnlySpan<ulong> recordIds) => Ids.AddRange(recordIds);
    }

    private sealed class Counting : IRecordIdSink
    {
        public long Count { get; private set; }

        public void Delivered(ReadOnlySpan<ulong> recordIds) => Count += recordIds.Length;
    }
}
