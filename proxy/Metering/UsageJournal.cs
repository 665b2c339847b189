using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Hashing;
using System.Text;
using System.Threading.Channels;
using Gateway.Core;
using Microsoft.Extensions.Options;

namespace Gateway.Proxy.Metering;

/// <summary>
/// This instance's write-ahead journal of counts (<c>Gateway:Metering:Journal</c>): a folder holding the writer id of
/// the instance's usage rows, an exclusive lock, and append-only segments of records <c>key TAB value TAB crc32</c>,
/// each the cumulative value of one count (a usage cell or a quota month) when it was committed.
/// <para>
/// Opening it (at start, before anything is counted) reads the segments the previous run left: the last record of
/// each key is its value, and the writer id is kept, so the counts go on from where they were and the rows the flush
/// writes replace that writer's rows with values that include everything journaled (cumulative rows: writing them
/// again is idempotent, a replay can never count a call twice). A record cut short by the crash (no newline, a bad
/// checksum) ends its segment's replay with a warning.
/// </para>
/// <para>
/// The request path only queues a count whose change is not queued yet (<see cref="FlushableCount"/>);
/// <see cref="UsageJournalWriter"/> takes what accumulated, writes one batch, fsyncs, and marks the values journaled
/// (group commit). The flush writes only journaled values (<see cref="FlushableCount.TryReadDirty"/>), after asking
/// for a commit (<see cref="SyncAsync"/>): storage never holds a value the journal does not hold too.
/// </para>
/// </summary>
public sealed partial class UsageJournal : IDisposable
{
    private const string WriterFile = "writer";
    private const string LockFile = "lock";
    private const string SegmentExtension = ".log";

    private readonly Channel<FlushableCount?> _pending = Channel.CreateUnbounded<FlushableCount?>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentQueue<TaskCompletionSource> _waiters = new();
    private readonly FileStream _lock;
    private readonly ILogger<UsageJournal> _logger;
    private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);
    private FileStream? _segment;
    private long _segmentNumber;
    private long _commits;

    public UsageJournal(IOptions<GatewayOptions> options, ILogger<UsageJournal> logger)
    {
        _logger = logger;
        var metering = options.Value.Metering;
        Folder = metering.Journal.FolderFor(UsageRecorder.InstanceName(metering));
        SegmentBytes = metering.Journal.SegmentBytes;
        CommitInterval = metering.Journal.CommitInterval;
        Directory.CreateDirectory(Folder);
        try
        {
            _lock = new FileStream(Path.Combine(Folder, LockFile), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new InvalidOperationException(
                $"The usage journal {Folder} is in use by another process. Give each gateway instance its own Gateway:Metering:InstanceId or Gateway:Metering:Journal:Path.", e);
        }

        Writer = ReadOrCreateWriter(Folder, metering);
        Recovered = Replay();
    }

    /// <summary>This instance's journal folder.</summary>
    public string Folder { get; }

    public long SegmentBytes { get; }

    /// <summary>The shortest time between the starts of two commits.</summary>
    public TimeSpan CommitInterval { get; }

    /// <summary>The writer id of this instance's usage rows: kept across runs as long as the journal is.</summary>
    public string Writer { get; }

    /// <summary>The counts the previous run journaled, by key (the last value of each), for their owners to restore.</summary>
    public IReadOnlyDictionary<string, long> Recovered { get; }

    /// <summary>Commits (batches written and fsynced) since start.</summary>
    public long Commits => Interlocked.Read(ref _commits);

    /// <summary>Queues a count whose change the journal does not hold yet. Never blocks; allocates nothing once the queue has grown.</summary>
    internal void Enqueue(FlushableCount count) => _pending.Writer.TryWrite(count);

    /// <summary>Completes once every change made before the call is journaled (the next group commit).</summary>
    public Task SyncAsync(CancellationToken cancellationToken)
    {
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiters.Enqueue(waiter);
        _pending.Writer.TryWrite(null);
        return waiter.Task.WaitAsync(cancellationToken);
    }

    internal ChannelReader<FlushableCount?> Pending => _pending.Reader;

    internal bool HasWaiters => !_waiters.IsEmpty;

    /// <summary>This run's first segment exists (the first commit starts it).</summary>
    internal bool Started => _segment is not null;

    /// <summary>Puts back waiters whose commit failed: they complete with the next one that succeeds.</summary>
    internal void Requeue(List<TaskCompletionSource> waiters) => waiters.ForEach(_waiters.Enqueue);

    /// <summary>Takes the waiters queued so far (into <paramref name="taken"/>): those whose changes the commit about to be drained holds.</summary>
    internal void TakeWaiters(List<TaskCompletionSource> taken)
    {
        taken.Clear();
        while (_waiters.TryDequeue(out var waiter))
        {
            taken.Add(waiter);
        }
    }

    /// <summary>
    /// Starts a new segment: <paramref name="first"/> (values read earlier), then the given counts' current values,
    /// in the order they were read (the replay takes the last record of a key), fsynced; then deletes all but the
    /// segment before it.
    /// </summary>
    internal void StartSegment(List<(FlushableCount Count, long Value)> first, IEnumerable<FlushableCount> live)
    {
        var previous = _segment;
        _segmentNumber++;
        var path = SegmentPath(_segmentNumber);
        var segment = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 0);
        var batch = new List<(FlushableCount Count, long Value)>(first);
        foreach (var count in live)
        {
            if (count.JournalKey is not null)
            {
                batch.Add((count, count.Count));
            }
        }

        Append(segment, batch);
        _segment = segment;
        previous?.Dispose();

        // The segment before stays until the next rotation: its directory entry is long durable by then, while the
        // new segment's may not be yet (the folder itself is not fsynced). Replay takes the last value of each key.
        foreach (var (number, file) in Segments())
        {
            if (number < _segmentNumber - 1)
            {
                File.Delete(file);
            }
        }
    }

    /// <summary>Appends one batch to the current segment, fsyncs, marks the values journaled; rotates past <see cref="SegmentBytes"/>.</summary>
    internal void Commit(List<(FlushableCount Count, long Value)> batch, Func<IEnumerable<FlushableCount>> live)
    {
        try
        {
            if (_segment is null)
            {
                StartSegment(batch, live());
                return;
            }

            Append(_segment, batch);
            if (_segment.Length > SegmentBytes)
            {
                StartSegment([], live());
            }
        }
        catch
        {
            // The segment may end in part of a record now, which would end its replay there: the next commit starts
            // a new segment, with every live count.
            _segment?.Dispose();
            _segment = null;
            throw;
        }
    }

    private void Append(FileStream segment, List<(FlushableCount Count, long Value)> batch)
    {
        if (batch.Count > 0)
        {
            _buffer.ResetWrittenCount();
            foreach (var (count, value) in batch)
            {
                WriteRecord(_buffer, count.JournalKey!, value);
            }

            segment.Write(_buffer.WrittenSpan);
        }

        segment.Flush(flushToDisk: true);
        Interlocked.Increment(ref _commits);
        foreach (var (count, value) in batch)
        {
            count.MarkJournaled(value);
        }
    }

    /// <summary>One record: <c>key TAB value TAB crc32-of-"key TAB value"</c> and a newline, UTF-8, written in place.</summary>
    internal static void WriteRecord(IBufferWriter<byte> buffer, string key, long value)
    {
        var span = buffer.GetSpan(Encoding.UTF8.GetMaxByteCount(key.Length) + 40);
        var length = Encoding.UTF8.GetBytes(key, span);
        span[length++] = (byte)'\t';
        value.TryFormat(span[length..], out var written, provider: CultureInfo.InvariantCulture);
        length += written;
        var crc = Crc32.HashToUInt32(span[..length]);
        span[length++] = (byte)'\t';
        crc.TryFormat(span[length..], out written, "x8", CultureInfo.InvariantCulture);
        length += written;
        span[length++] = (byte)'\n';
        buffer.Advance(length);
    }

    private Dictionary<string, long> Replay()
    {
        var recovered = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (number, file) in Segments())
        {
            _segmentNumber = Math.Max(_segmentNumber, number);
            var text = File.ReadAllText(file, Encoding.UTF8);
            var start = 0;
            var records = 0;
            while (start < text.Length)
            {
                var end = text.IndexOf('\n', start);
                if (end < 0 || !TryParse(text.AsSpan(start, end - start), out var key, out var value))
                {
                    LogTornRecord(_logger, Path.GetFileName(file), records, text.Length - start);
                    break;
                }

                recovered[key] = value;
                records++;
                start = end + 1;
            }
        }

        if (recovered.Count > 0)
        {
            LogReplayed(_logger, recovered.Count, Writer);
        }

        return recovered;
    }

    private static bool TryParse(ReadOnlySpan<char> line, out string key, out long value)
    {
        key = "";
        value = 0;
        var lastTab = line.LastIndexOf('\t');
        if (lastTab < 0)
        {
            return false;
        }

        var body = line[..lastTab];
        var valueTab = body.LastIndexOf('\t');
        if (valueTab < 0
            || !uint.TryParse(line[(lastTab + 1)..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var crc)
            || Crc32.HashToUInt32(Encoding.UTF8.GetBytes(body.ToString())) != crc
            || !long.TryParse(body[(valueTab + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value))
        {
            return false;
        }

        key = body[..valueTab].ToString();
        return true;
    }

    private static string ReadOrCreateWriter(string folder, MeteringOptions metering)
    {
        var path = Path.Combine(folder, WriterFile);
        if (File.Exists(path) && File.ReadAllText(path).Trim() is { Length: > 0 } existing)
        {
            return existing;
        }

        var writer = UsageRecorder.NewWriter(metering);
        var temporary = path + ".new";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(Encoding.UTF8.GetBytes(writer));
            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
        return writer;
    }

    private string SegmentPath(long number) => Path.Combine(Folder, number.ToString("D12", CultureInfo.InvariantCulture) + SegmentExtension);

    private List<(long Number, string File)> Segments() =>
        Directory.EnumerateFiles(Folder, "*" + SegmentExtension)
            .Select(f => (Number: long.TryParse(Path.GetFileNameWithoutExtension(f), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1, File: f))
            .Where(s => s.Number >= 0)
            .OrderBy(s => s.Number)
            .ToList();

    public void Dispose()
    {
        _segment?.Dispose();
        _lock.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Usage journal segment {Segment}: record {Record} is cut short or damaged ({Bytes} characters left unread), the tail of a crash; replay goes on with the next segment.")]
    private static partial void LogTornRecord(ILogger logger, string segment, int record, int bytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Usage journal: replayed {Counts} counts of writer {Writer}.")]
    private static partial void LogReplayed(ILogger logger, int counts, string writer);
}
