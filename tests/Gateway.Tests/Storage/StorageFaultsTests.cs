using Azure;
using Azure.Data.Tables;
using Gateway.Core.Storage;
using Gateway.Tests.Infrastructure;

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

    [Theory]
    [InlineData(0, true)]
    [InlineData(408, true)]
    [InlineData(429, true)]
    [InlineData(500, true)]
    [InlineData(503, true)]
    [InlineData(400, false)]
    [InlineData(404, false)]
    [InlineData(409, false)]
    [InlineData(412, false)]
    public void RequestFailed_IsAStorageFault_OnlyWhenStorageDidNotAnswerOrFailedItself(int status, bool fault)
    {
        Assert.Equal(fault, StorageFaults.IsStorageFault(new RequestFailedException(status, "storage said so")));
        Assert.Equal(fault, StorageFaults.IsStorageFault(new AggregateException(new RequestFailedException(status, "after retries"))));
    }

    [Fact]
    public void Cancellation_IsAStorageFault_UnlessTheCallerAskedForIt()
    {
        using var caller = new CancellationTokenSource();

        Assert.True(StorageFaults.IsStorageFault(new TaskCanceledException("network timeout"), caller.Token));
        Assert.True(StorageFaults.IsStorageFault(new AggregateException(new TaskCanceledException(), new TaskCanceledException()), caller.Token));
        caller.Cancel();
        Assert.False(StorageFaults.IsStorageFault(new OperationCanceledException(caller.Token), caller.Token));
    }
}

/// <summary>What the Azure SDK really throws, against Azurite, is classified as the fault it is.</summary>
[Collection(UsesAzurite.Name)]
public sealed class StorageFaultsAgainstAzuriteTests(Azurite azurite)
{
    [Fact]
    public async Task SdkNetworkTimeout_WhileStorageHangs_IsAStorageFault()
    {
        var options = new TableClientOptions { Retry = { MaxRetries = 1, Delay = TimeSpan.FromMilliseconds(10), NetworkTimeout = TimeSpan.FromMilliseconds(300) } };
        var table = new TableClient(azurite.ConnectionString, "t" + Guid.NewGuid().ToString("N")[..12], options);
        using var caller = new CancellationTokenSource();

        azurite.Freeze();
        Exception thrown;
        try
        {
            thrown = await Assert.ThrowsAnyAsync<Exception>(() => table.GetEntityIfExistsAsync<TableEntity>("p", "r", cancellationToken: caller.Token));
        }
        finally
        {
            azurite.Thaw();
        }

        Assert.True(StorageFaults.IsStorageFault(thrown, caller.Token), $"not a storage fault: {thrown.GetType().Name}: {thrown.Message}");
    }

    [Fact]
    public async Task ClientErrorFromStorage_IsNotAStorageFault()
    {
        var missing = new TableClient(azurite.ConnectionString, "t" + Guid.NewGuid().ToString("N")[..12]);

        var notFound = await Assert.ThrowsAsync<RequestFailedException>(() => missing.GetEntityAsync<TableEntity>("p", "r"));

        Assert.Equal(404, notFound.Status);
        Assert.False(StorageFaults.IsStorageFault(notFound));
    }
}
