using Azure;

namespace Gateway.Core.Storage;

/// <summary>Which exceptions mean "Table Storage did not answer" (a fault to retry later), as opposed to a bug.</summary>
public static class StorageFaults
{
    /// <summary>
    /// True for storage not answering: no response at all (<see cref="RequestFailedException"/> with status 0), a
    /// timeout, throttling or a server error (408, 429, 5xx), the SDK's network timeout (a cancellation that the
    /// caller did not ask for), and the <see cref="AggregateException"/> the SDK throws once every retry has failed.
    /// Any other 4xx from storage is not an outage: the request was wrong (bad input that slipped through, or our
    /// bug), and it would fail the same way when retried.
    /// </summary>
    /// <param name="exception">What was thrown.</param>
    /// <param name="cancellationToken">
    /// The caller's own token: a cancellation it asked for is not a fault. Without one, every cancellation counts
    /// as a storage timeout.
    /// </param>
    public static bool IsStorageFault(Exception exception, CancellationToken cancellationToken = default) => exception switch
    {
        RequestFailedException failed => failed.Status is 0 or 408 or 429 or >= 500,
        TimeoutException => true,
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        AggregateException aggregate => aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(e => IsStorageFault(e, cancellationToken)),
        _ => false,
    };
}
