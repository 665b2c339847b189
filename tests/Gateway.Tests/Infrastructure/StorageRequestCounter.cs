using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;

namespace Gateway.Tests.Infrastructure;

/// <summary>Counts every HTTP request the gateway's Table Storage clients send, by method.</summary>
public sealed class StorageRequestCounter : HttpPipelineSynchronousPolicy
{
    private int _reads;
    private int _all;

    public int Reads => Volatile.Read(ref _reads);

    public int All => Volatile.Read(ref _all);

    /// <summary>Requests that are not reads: inserts, updates, deletes, batches.</summary>
    public int Writes => All - Reads;

    public TableClientOptions Options()
    {
        var options = new TableClientOptions();
        options.AddPolicy(this, HttpPipelinePosition.PerCall);
        return options;
    }

    public override void OnSendingRequest(HttpMessage message)
    {
        Interlocked.Increment(ref _all);
        if (message.Request.Method == RequestMethod.Get)
        {
            Interlocked.Increment(ref _reads);
        }
    }
}
