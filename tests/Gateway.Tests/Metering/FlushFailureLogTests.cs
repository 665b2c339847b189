using System.Collections.Concurrent;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Gateway.Proxy.Metering;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Metering;

[Collection(UsesAzurite.Name)]
public sealed class FlushFailureLogTests(Azurite azurite) : GatewayTest(azurite)
{
    [Fact]
    public async Task FailedFlush_WhenStorageRefusesConnections_LogsOneWarningLineWithoutStackTrace()
    {
        var storage = new RefusingStorage();
        using var log = new LogLines();
        await using var gateway = await StartGatewayAsync(
            settings: s => s["Gateway:Metering:FlushInterval"] = "00:05:00",
            services: s => s.AddSingleton(storage.Options()).AddSingleton<ILoggerProvider>(log));
        var flusher = gateway.Services.GetRequiredService<UsageFlushService>();
        var customer = await gateway.CreateCustomerAsync();
        var key = (await gateway.IssueKeyAsync(customer)).Key;
        await ExactMeteringTests.SendAllAsync(gateway.Data, [(key, "alpha/1")], parallelism: 1);

        storage.Refusing = true;
        var failed = await flusher.FlushAsync(CancellationToken.None);
        storage.Refusing = false;

        Assert.False(failed.Complete);
        var line = Assert.Single(log.Entries, e => e.Category == typeof(UsageFlushService).FullName);
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Null(line.Exception);
        Assert.Contains("(Connection refused (127.0.0.1:10002))", line.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', line.Message);
        Assert.True((await flusher.FlushAsync(CancellationToken.None)).Complete);
    }

    /// <summary>Refuses every request on every retry, as a stopped storage service does, while switched on.</summary>
    private sealed class RefusingStorage : HttpPipelineSynchronousPolicy
    {
        public volatile bool Refusing;

        public TableClientOptions Options()
        {
            var options = new TableClientOptions { Retry = { MaxRetries = 3, Delay = TimeSpan.FromMilliseconds(10) } };
            options.AddPolicy(this, HttpPipelinePosition.PerRetry);
            return options;
        }

        public override void OnSendingRequest(HttpMessage message)
        {
            if (Refusing)
            {
                throw new RequestFailedException(0, "Connection refused (127.0.0.1:10002)", new HttpRequestException("Connection refused"));
            }
        }
    }

    private sealed record LogEntry(string Category, LogLevel Level, string Message, Exception? Exception);

    /// <summary>Keeps what the gateway logs, as a console would show it.</summary>
    private sealed class LogLines : ILoggerProvider
    {
        public ConcurrentQueue<LogEntry> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, Entries);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<LogEntry> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                entries.Enqueue(new LogEntry(category, logLevel, formatter(state, exception), exception));
        }
    }
}
