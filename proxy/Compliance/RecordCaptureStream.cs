using System.IO.Pipelines;
using Gateway.Compliance;
using Gateway.Proxy.Keys;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.ObjectPool;

namespace Gateway.Proxy.Compliance;

/// <summary>
/// Counts the records a response delivers as its body passes to the client: the response body feature of a call to a
/// route with a <see cref="RecordIdPath"/>. Each chunk YARP copies is written to the client first and read after
/// (a <see cref="RecordIdReader"/>); bytes are never held back or changed. Only a 2xx <c>application/json</c> response
/// without a <c>Content-Encoding</c> is read, decided at its first write. Pooled: a call allocates nothing.
/// <para>
/// On a route with a canary (<see cref="CanaryBook"/>) such a response also carries the key's canary of the day, as the
/// last element of its first list of records: each chunk is read first, and the chunk holding the list's closing
/// <c>]</c> is written in two parts with the canary (after a comma when the list had elements) between them. The
/// response's <c>Content-Length</c> is dropped before its headers go out (the body is sent chunked). Nothing is held
/// back beyond the chunk in hand.
/// </para>
/// </summary>
public sealed partial class RecordCaptureStream : Stream, IHttpResponseBodyFeature, IRecordIdSink
{
    private readonly RecordIdReader _reader = new();
    private IHttpResponseBodyFeature _inner = null!;
    private HttpContext _context = null!;
    private ApiCaller _caller = null!;
    private EvidenceRecorder _evidence = null!;
    private ILogger _logger = null!;
    private PipeWriter? _writer;
    private bool _decided;
    private bool _reading;
    private Canary? _canary;
    private bool _inserting;
    private long _written;

    public void Start(HttpContext context, ApiCaller caller, RecordIdPath path, EvidenceRecorder evidence, ILogger logger, Canary? canary = null)
    {
        _canary = canary;
        _inserting = false;
        _written = 0;
        _context = context;
        _caller = caller;
        _evidence = evidence;
        _logger = logger;
        _inner = context.Features.GetRequiredFeature<IHttpResponseBodyFeature>();
        _writer = null;
        _decided = false;
        _reading = false;
        _reader.Start(path, this);
        context.Features.Set<IHttpResponseBodyFeature>(this);
    }

    /// <summary>The response is over: the last ids go to the evidence and the client's body feature is put back. Answers the records read.</summary>
    public long Finish()
    {
        var records = _reader.Finish();
        _context.Features.Set(_inner);
        _context = null!;
        _caller = null!;
        _inner = null!;
        _canary = null;
        return records;
    }

    void IRecordIdSink.Delivered(ReadOnlySpan<ulong> recordIds) =>
        _evidence.RecordsDelivered(_caller.KeyId, _caller.CustomerId, _caller.Plan.Name, recordIds);

    // IHttpResponseBodyFeature: this stream in front of the client's; everything else is the client's.
    Stream IHttpResponseBodyFeature.Stream => this;

    PipeWriter IHttpResponseBodyFeature.Writer => _writer ??= PipeWriter.Create(this, new StreamPipeWriterOptions(leaveOpen: true));

    void IHttpResponseBodyFeature.DisableBuffering() => _inner.DisableBuffering();

    Task IHttpResponseBodyFeature.StartAsync(CancellationToken cancellationToken)
    {
        Decide();
        return _inner.StartAsync(cancellationToken);
    }

    Task IHttpResponseBodyFeature.SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken) =>
        _inner.SendFileAsync(path, offset, count, cancellationToken);

    Task IHttpResponseBodyFeature.CompleteAsync() => Decided() && _writer is { } writer ? CompleteWriterAsync(writer) : _inner.CompleteAsync();

    private async Task CompleteWriterAsync(PipeWriter writer)
    {
        await writer.FlushAsync();
        await _inner.CompleteAsync();
    }

    // Stream: writes go to the client, then to the reader.
    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Decide();
        if (_inserting)
        {
            var at = ReadForCanary(buffer);
            if (at >= 0)
            {
                _inner.Stream.Write(buffer[..at]);
                _inner.Stream.Write(CanaryElement());
                _inner.Stream.Write(buffer[at..]);
                return;
            }

            _inner.Stream.Write(buffer);
            return;
        }

        _inner.Stream.Write(buffer);
        Read(buffer);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Decide();
        if (_inserting)
        {
            var at = ReadForCanary(buffer.Span);
            return at < 0 ? _inner.Stream.WriteAsync(buffer, cancellationToken) : WriteWithCanaryAsync(buffer, at, cancellationToken);
        }

        var writing = _inner.Stream.WriteAsync(buffer, cancellationToken);
        if (!writing.IsCompletedSuccessfully)
        {
            return ReadWhenWrittenAsync(writing, buffer);
        }

        Read(buffer.Span);
        return writing;
    }

    private async ValueTask ReadWhenWrittenAsync(ValueTask writing, ReadOnlyMemory<byte> buffer)
    {
        await writing;
        Read(buffer.Span);
    }

    private async ValueTask WriteWithCanaryAsync(ReadOnlyMemory<byte> buffer, int at, CancellationToken cancellationToken)
    {
        await _inner.Stream.WriteAsync(buffer[..at], cancellationToken);
        await _inner.Stream.WriteAsync(CanaryElement(), cancellationToken);
        await _inner.Stream.WriteAsync(buffer[at..], cancellationToken);
    }

    public override void Flush()
    {
        Decide();
        _inner.Stream.Flush();
    }

    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        Decide();
        return _inner.Stream.FlushAsync(cancellationToken);
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>
    /// Whether the body is read (and, with a canary, changed) is decided once, before the headers go out: at the first
    /// write, flush, start or completion. A canary drops <c>Content-Length</c>, which is only possible then.
    /// </summary>
    private void Decide()
    {
        if (_decided)
        {
            return;
        }

        _decided = true;
        _reading = IsJsonSuccess(_context.Response);
        if (_reading && _canary is not null && !_context.Response.HasStarted && HttpMethods.IsGet(_context.Request.Method))
        {
            _inserting = true;
            _context.Response.ContentLength = null;
        }
    }

    private bool Decided()
    {
        Decide();
        return true;
    }

    /// <summary>Reads a chunk before it is written; answers where in it the canary goes (once per response), else -1.</summary>
    private int ReadForCanary(ReadOnlySpan<byte> chunk)
    {
        var start = _written;
        _written += chunk.Length;
        Read(chunk);
        var end = _reader.RecordsListEnd;
        if (_canary is null || end < start || end >= _written)
        {
            return -1;
        }

        return (int)(end - start);
    }

    /// <summary>The canary as this list needs it (after a comma when it had elements); marks it delivered.</summary>
    private byte[] CanaryElement()
    {
        var canary = _canary!;
        canary.Delivered();
        _canary = null;
        return _reader.RecordsListHadElements ? canary.ElementAfterComma : canary.Element;
    }

    private void Read(ReadOnlySpan<byte> chunk)
    {
        Decide();
        if (_reading && !_reader.Feed(chunk))
        {
            _reading = false;
            LogNotJson(_logger, _context.GetRouteModel().Config.RouteId, _caller.KeyId);
        }
    }

    /// <summary>A 2xx whose body is plain (not encoded) <c>application/json</c>.</summary>
    private static bool IsJsonSuccess(HttpResponse response) =>
        response.StatusCode is >= 200 and < 300
        && response.Headers.ContentEncoding.Count == 0
        && IsJson(response.ContentType);

    /// <summary><c>application/json</c>, with or without parameters (<c>; charset=utf-8</c>); compared in place, no parse object made.</summary>
    private static bool IsJson(string? contentType)
    {
        var type = contentType.AsSpan().TrimStart();
        const string Json = "application/json";
        if (!type.StartsWith(Json, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var rest = type[Json.Length..].TrimStart();
        return rest.IsEmpty || rest[0] == ';';
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A response of route '{RouteId}' to key {KeyId} is not valid JSON; it was passed through untouched and its records were counted up to the fault.")]
    private static partial void LogNotJson(ILogger logger, string routeId, string keyId);

    /// <summary>Pools captures: one per call in flight on a records route.</summary>
    public sealed class Policy : PooledObjectPolicy<RecordCaptureStream>
    {
        public override RecordCaptureStream Create() => new();

        public override bool Return(RecordCaptureStream capture) => true;
    }
}

/// <summary>Starts and finishes the <see cref="RecordCaptureStream"/> of a call, for routes with a <see cref="RecordIdPath"/>.</summary>
public sealed class RecordCaptures(RecordRoutes routes, EvidenceRecorder evidence, CanaryBook canaries, ILogger<RecordCaptureStream> logger)
{
    private readonly ObjectPool<RecordCaptureStream> _pool = new DefaultObjectPool<RecordCaptureStream>(new RecordCaptureStream.Policy(), Environment.ProcessorCount * 64);

    /// <summary>A capture on the call's response when its route counts records; null otherwise (nothing changes).</summary>
    public RecordCaptureStream? Start(HttpContext context, ApiCaller caller)
    {
        if (!routes.Any || !routes.TryGet(context.GetRouteModel().Config.RouteId, out var path))
        {
            return null;
        }

        var canary = canaries.Any ? canaries.For(context.GetRouteModel().Config.RouteId, caller.KeyId, caller.CustomerId) : null;
        var capture = _pool.Get();
        capture.Start(context, caller, path, evidence, logger, canary);
        return capture;
    }

    public void Finish(RecordCaptureStream capture)
    {
        capture.Finish();
        _pool.Return(capture);
    }
}
