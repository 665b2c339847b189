using Azure;
using Gateway.Core.Storage;

namespace Gateway.Tests.Storage;

public sealed class StorageFaultsTests
{
    [Fact]
    public void SdkGivingUpAfterRetries_IsAStorageFault()
    {
        var exhausted = new AggregateException(new RequestFailedException("timeout"), new RequestFailedException("timeout"));

        Assert.True(StorageFaults.IsStorageFault(exhausted));
        Assert.True(StorageFaults.IsStorageFault(new RequestFailedException(503, "busy")));
        Assert.True(StorageFaults.IsStorageFault(new TimeoutException()));
    }

    [Fact]
    public void Bugs_AreNotStorageFaults()
    {
        Assert.False(StorageFaults.IsStorageFault(new InvalidOperationException()));
        Assert.False(StorageFaults.IsStorageFault(new AggregateException(new RequestFailedException("x"), new FormatException())));
    }
}
