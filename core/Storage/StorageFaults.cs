using Azure;

namespace Gateway.Core.Storage;

/// <summary>Which exceptions mean "Table Storage did not answer" (a fault to retry later), as opposed to a bug.</summary>
public static class StorageFaults
{
    /// <summary>
    /// A failed request, a timeout, or the <see cref="AggregateException"/> the Azure SDK throws once every retry
    /// of a request has failed.
    /// </summary>
    public static bool IsStorageFault(Exception exception) => exception switch
    {
        RequestFailedException or TimeoutException => true,
        AggregateException aggregate => aggregate.InnerExceptions.All(IsStorageFault),
        _ => false,
    };
}
