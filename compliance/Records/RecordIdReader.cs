using System.Buffers;
using System.IO.Hashing;
using System.Text.Json;

namespace Gateway.Compliance;

/// <summary>Takes the record ids a response delivered, as 64-bit hashes of their UTF-8 text, a batch at a time.</summary>
public interface IRecordIdSink
{
    void Delivered(ReadOnlySpan<ulong> recordIds);
}

/// <summary>
/// Reads record ids out of a JSON body as it streams past, chunk by chunk, without holding the body: a
/// <see cref="Utf8JsonReader"/> over each chunk (<c>isFinalBlock: false</c>) with its <see cref="JsonReaderState"/>
/// carried from chunk to chunk, and only the bytes of a token split across chunks kept (in a pooled buffer) until the
/// next chunk completes it. Each id (a string or number at <see cref="RecordIdPath"/>) is hashed straight from its
/// UTF-8 bytes (XxHash3, unescaped first if it has escapes) without making a string, and handed to the sink in
/// batches of <see cref="Batch"/>. Reusable: <see cref="Start"/> … <see cref="Finish"/>, then start again (pooled per
/// response, so a response allocates nothing).
/// <para>Malformed JSON or a token longer than <see cref="MaxTokenBytes"/> stops the reading (<see cref="Failed"/>); the
/// ids already read stay delivered. The bytes themselves are never changed: the reader only looks.</para>
/// </summary>
public sealed class RecordIdReader
{
    /// <summary>Ids handed to the sink at once (one lock of the evidence per batch, not per id).</summary>
    public const int Batch = 64;

    /// <summary>The longest token kept across chunks; a longer one (no id is that long) stops the reading.</summary>
    public const int MaxTokenBytes = 64 * 1024;

    private readonly ulong[] _pending = new ulong[Batch];
    private RecordIdPath _path = null!;
    private IRecordIdSink? _sink;
    private JsonReaderState _state;
    private byte[]? _carry;
    private int _carryLength;
    private int _pendingCount;
    private int _depth;
    private int _onPath;
    private bool _selected;
    private long _fed;
    private long _base;
    private bool _listHasRecords;

    /// <summary>Ids read since <see cref="Start"/>.</summary>
    public long Count { get; private set; }

    /// <summary>
    /// Where the first list of records ends: the offset in the body (from <see cref="Start"/>) of the <c>]</c> closing the
    /// array of the path's last <c>[*]</c>; -1 until it is read. Known once the chunk holding it was fed.
    /// </summary>
    public long RecordsListEnd { get; private set; }

    /// <summary>The list ending at <see cref="RecordsListEnd"/> had an element before its <c>]</c> (a canary then needs a comma).</summary>
    public bool RecordsListHadElements { get; private set; }

    /// <summary>The body was not JSON (or had a token past <see cref="MaxTokenBytes"/>): reading stopped there.</summary>
    public bool Failed { get; private set; }

    public void Start(RecordIdPath path, IRecordIdSink sink)
    {
        _path = path;
        _sink = sink;
        _state = default;
        _carryLength = 0;
        _pendingCount = 0;
        _depth = 0;
        _onPath = 0;
        _selected = false;
        _fed = 0;
        _listHasRecords = false;
        RecordsListEnd = -1;
        RecordsListHadElements = false;
        Count = 0;
        Failed = false;
    }

    /// <summary>Reads the ids in the next chunk of the body. False once reading has stopped (malformed JSON).</summary>
    public bool Feed(ReadOnlySpan<byte> chunk)
    {
        if (Failed || _sink is null)
        {
            return false;
        }

        _fed += chunk.Length;
        try
        {
            if (_carryLength > 0 && !CompleteCarriedToken(ref chunk))
            {
                return !Failed;
            }

            _base = _fed - chunk.Length;
            var consumed = Read(chunk);
            Keep(chunk[consumed..]);
        }
        catch (JsonException)
        {
            Failed = true;
        }

        return !Failed;
    }

    /// <summary>The body ended: hands over the ids not yet handed over and returns the pooled buffer. Answers the ids read.</summary>
    public long Finish()
    {
        if (_pendingCount > 0)
        {
            _sink?.Delivered(_pending.AsSpan(0, _pendingCount));
            _pendingCount = 0;
        }

        if (_carry is not null)
        {
            ArrayPool<byte>.Shared.Return(_carry);
            _carry = null;
        }

        _sink = null;
        return Count;
    }

    /// <summary>
    /// The previous chunk ended inside a token: append the new chunk's bytes to the carried ones until the reader gets
    /// past them; <paramref name="chunk"/> is left as the part not read yet. False when the whole chunk was taken and
    /// the token is still incomplete (or reading stopped).
    /// </summary>
    private bool CompleteCarriedToken(ref ReadOnlySpan<byte> chunk)
    {
        while (true)
        {
            var carried = _carryLength;
            var take = Math.Min(chunk.Length, _carry!.Length - carried);
            chunk[..take].CopyTo(_carry.AsSpan(carried));
            _base = _fed - chunk.Length - carried;
            var consumed = Read(_carry.AsSpan(0, carried + take));
            if (consumed >= carried)
            {
                _carryLength = 0;
                chunk = chunk[(consumed - carried)..];
                return true;
            }

            // Still inside the carried token: keep what was not read, then this chunk's remaining bytes after it.
            _carry.AsSpan(consumed, carried + take - consumed).CopyTo(_carry);
            _carryLength = carried + take - consumed;
            chunk = chunk[take..];
            if (chunk.IsEmpty)
            {
                return false;
            }

            if (_carryLength == _carry.Length && !Grow(_carryLength + Math.Min(chunk.Length, 4096)))
            {
                return false;
            }
        }
    }

    /// <summary>Keeps the unread tail of a chunk (the start of a split token) for the next one.</summary>
    private void Keep(ReadOnlySpan<byte> tail)
    {
        if (tail.IsEmpty)
        {
            return;
        }

        if (_carry is null || _carry.Length < tail.Length)
        {
            if (!Grow(tail.Length))
            {
                return;
            }
        }

        tail.CopyTo(_carry);
        _carryLength = tail.Length;
    }

    /// <summary>A carry buffer of at least <paramref name="needed"/> bytes (contents kept); false past <see cref="MaxTokenBytes"/>.</summary>
    private bool Grow(int needed)
    {
        if (needed > MaxTokenBytes)
        {
            Failed = true;
            return false;
        }

        var size = Math.Max(needed, 256);
        if (_carry is not null && _carry.Length >= size)
        {
            return true;
        }

        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(size, (_carry?.Length ?? 0) * 2));
        if (_carry is not null)
        {
            _carry.AsSpan(0, _carryLength).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_carry);
        }

        _carry = bigger;
        return true;
    }

    /// <summary>Reads the complete tokens in <paramref name="data"/>; answers the bytes consumed.</summary>
    private int Read(ReadOnlySpan<byte> data)
    {
        var reader = new Utf8JsonReader(data, isFinalBlock: false, _state);
        var steps = _path.Steps;
        while (reader.Read())
        {
            var token = reader.TokenType;
            if (_depth != _onPath)
            {
                // Off the path: only the nesting matters.
                if (token is JsonTokenType.StartObject or JsonTokenType.StartArray)
                {
                    _depth++;
                }
                else if (token is JsonTokenType.EndObject or JsonTokenType.EndArray)
                {
                    _depth--;
                }

                continue;
            }

            switch (token)
            {
                case JsonTokenType.PropertyName:
                    // In an object on the path (its step is a property name): is this the property?
                    _selected = steps[_depth - 1] is { } name && reader.ValueTextEquals(name);
                    continue;
                case JsonTokenType.EndObject or JsonTokenType.EndArray:
                    if (_depth == _path.RecordsArrayDepth && RecordsListEnd < 0)
                    {
                        RecordsListEnd = _base + reader.TokenStartIndex;
                        RecordsListHadElements = _listHasRecords;
                    }

                    _onPath--;
                    _depth--;
                    continue;
            }

            // A value inside a container on the path (or the root).
            _listHasRecords |= _depth == _path.RecordsArrayDepth;
            var selected = _depth == 0 || steps[_depth - 1] is null || _selected;
            _selected = false;
            var container = token is JsonTokenType.StartObject or JsonTokenType.StartArray;
            if (selected && _depth == steps.Length)
            {
                if (token is JsonTokenType.String or JsonTokenType.Number)
                {
                    Add(ref reader);
                }
            }
            else if (selected && container && (token == JsonTokenType.StartArray) == (steps[_depth] is null))
            {
                _onPath++;
                _listHasRecords &= _depth + 1 != _path.RecordsArrayDepth;
            }

            if (container)
            {
                _depth++;
            }
        }

        _state = reader.CurrentState;
        return (int)reader.BytesConsumed;
    }

    private void Add(ref Utf8JsonReader reader)
    {
        ulong hash;
        if (reader.ValueIsEscaped && reader.ValueSpan.Length <= 256)
        {
            Span<byte> unescaped = stackalloc byte[256];
            hash = XxHash3.HashToUInt64(unescaped[..reader.CopyString(unescaped)]);
        }
        else
        {
            hash = XxHash3.HashToUInt64(reader.ValueSpan);
        }

        _pending[_pendingCount++] = hash;
        Count++;
        if (_pendingCount == Batch)
        {
            _sink!.Delivered(_pending);
            _pendingCount = 0;
        }
    }

    /// <summary>The hash an id has in the evidence (its UTF-8 text, as <see cref="RecordIdReader"/> hashes it).</summary>
    public static ulong Hash(string recordId)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(recordId);
        return XxHash3.HashToUInt64(bytes);
    }
}
