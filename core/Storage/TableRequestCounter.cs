using Azure.Core;
using Azure.Core.Pipeline;

namespace Gateway.Core.Storage;

/// <summary>
/// Counts every HTTP request the Table Storage clients send (reads, key refreshes, usage batches, table creation),
/// for the stats endpoint: storage requests per proxied call is a cost the benchmarks watch.
/// </summary>
public sealed class TableRequestCounter : HttpPipelineSynchronousPolicy
{
    private long _requests;

    public long Requests => Interlocked.Read(ref _requests);

    public override void OnSendingRequest(HttpMessage message) => Interlocked.Increment(ref _requests);
}
