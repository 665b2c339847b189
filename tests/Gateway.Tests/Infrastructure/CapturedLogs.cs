using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A logger provider that keeps every entry as a log sink would store it: the formatted message, every structured
/// value, the scopes around it and the exception with its stack. Register it with the gateway's services.
/// </summary>
public sealed class CapturedLogs : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<string> _entries = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public IReadOnlyCollection<string> Entries => _entries;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs logs, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => logs._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var entry = new StringBuilder($"{logLevel} {category}[{eventId.Id}]: {formatter(state, exception)}");
            Append(entry, state);
            logs._scopes.ForEachScope((scope, text) => Append(text.Append(" scope:"), scope), entry);
            if (exception is not null)
            {
                entry.Append('\n').Append(exception);
            }

            logs._entries.Enqueue(entry.ToString());
        }

        private static void Append(StringBuilder entry, object? state)
        {
            if (state is IEnumerable<KeyValuePair<string, object?>> values)
            {
                foreach (var (name, value) in values)
                {
                    entry.Append(' ').Append(name).Append('=').Append(value);
                }
            }
            else
            {
                entry.Append(' ').Append(state);
            }
        }
    }
}
