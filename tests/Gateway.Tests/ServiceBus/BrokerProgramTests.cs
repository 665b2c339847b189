using System.Collections.Concurrent;
using System.Diagnostics;
using Azure.Messaging.ServiceBus;
using Gateway.ServiceBusBroker;
using Gateway.Tests.Infrastructure;
using static Gateway.Tests.ServiceBus.BrokerClient;

namespace Gateway.Tests.ServiceBus;

/// <summary>The broker as a program (<c>dotnet Gateway.ServiceBusBroker.dll --port ... --subscription ...</c>), and its options.</summary>
public sealed class BrokerProgramTests
{
    [Fact]
    public async Task Program_StartedWithATopicAndSubscriptions_ServesTheClient_AndStopsOnSigterm()
    {
        var cancellation = Deadline();
        var port = FreePort.Take(1)[0];
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "Gateway.ServiceBusBroker.dll"), "--port", $"{port}",
            "--topic", "key-changes", "--subscription", "key-changes/gateway-1", "--subscription", "key-changes/gateway-2",
            "--no-create-on-first-use",
        })
        {
            start.ArgumentList.Add(argument);
        }

        var output = new ConcurrentQueue<string>();
        var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            output.Enqueue(e.Data);
            if (e.Data.StartsWith("Connection string: ", StringComparison.Ordinal))
            {
                listening.TrySetResult(e.Data["Connection string: ".Length..]);
            }
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var connectionString = await listening.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellation);
            await using (var client = new ServiceBusClient(connectionString))
            {
                await using var sender = client.CreateSender("key-changes");
                await using var second = client.CreateReceiver("key-changes", "gateway-2");
                await sender.SendMessageAsync(new ServiceBusMessage("revoked"), cancellation);
                var received = await second.ReceiveOneAsync(cancellation);
                Assert.Equal("revoked", received.Body.ToString());
                await second.CompleteMessageAsync(received, cancellation);
            }

            Assert.Contains($"Endpoint=sb://127.0.0.1:{port};", connectionString, StringComparison.Ordinal);
            Assert.Contains(output, line => line.Contains("topic key-changes: gateway-1, gateway-2", StringComparison.Ordinal));
            using (var kill = Process.Start("kill", $"-TERM {process.Id}"))
            {
                await kill.WaitForExitAsync(cancellation);
            }

            await process.WaitForExitAsync(cancellation);
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public void CommandLine_WithFlagsAndAConfigFile_AddsEveryEntity_AndFlagsOverrideTheFile()
    {
        var file = Path.Combine(Path.GetTempPath(), $"broker-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, """
            { "port": 6000, "queues": ["orders"], "topics": { "key-changes": ["gateway-1", "gateway-2"] },
              "lockDurationSeconds": 5, "maxDeliveryCount": 4, "duplicateDetectionWindowSeconds": 0 }
            """);
        try
        {
            Assert.True(BrokerCommandLine.TryParse(["--config", file, "--port", "6001", "--queue", "audit", "--lock-duration", "7.5"], out var options, out var problem));

            Assert.Null(problem);
            Assert.Equal(6001, options.Port);
            Assert.Equal(["orders", "audit"], options.Queues);
            Assert.Equal(["key-changes"], options.Topics);
            Assert.Equal(["key-changes/gateway-1", "key-changes/gateway-2"], options.Subscriptions);
            Assert.Equal(TimeSpan.FromSeconds(7.5), options.LockDuration);
            Assert.Equal(4, options.MaxDeliveryCount);
            Assert.Equal(TimeSpan.Zero, options.DuplicateDetectionWindow);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("--port", "many")]
    [InlineData("--max-delivery-count", "0")]
    [InlineData("--colour", "blue")]
    [InlineData("--queue")]
    public void CommandLine_WithABadOption_IsRefusedWithAProblem(params string[] args)
    {
        Assert.False(BrokerCommandLine.TryParse(args, out _, out var problem));
        Assert.False(string.IsNullOrEmpty(problem));
    }

    [Fact]
    public async Task Subscription_NotNamedTopicSlashName_IsRefusedAtStart()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => ServiceBusTestBroker.StartAsync(new BrokerOptions { Subscriptions = { "no-slash" } }));
    }
}
