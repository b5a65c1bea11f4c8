using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Stratus.Platform.Tests.Support;

/// <summary>
/// Sends a host's warnings and errors to the test's output, which xunit shows when the test fails, and keeps them
/// for the test to read.
/// </summary>
public sealed class TestOutputLoggerProvider(ITestOutputHelper output, string prefix) : ILoggerProvider
{
    private readonly ConcurrentQueue<string> lines = new();

    public IReadOnlyList<string> Lines => lines.ToArray();

    public ILogger CreateLogger(string categoryName) => new Logger(output, lines, $"{prefix} {categoryName}");

    public void Dispose()
    {
    }

    private sealed class Logger(ITestOutputHelper output, ConcurrentQueue<string> lines, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var line = $"{logLevel} {category}: {formatter(state, exception)}{(exception is null ? "" : $" ({exception.GetType().Name}: {exception.Message})")}";
            lines.Enqueue(line);
            try
            {
                output.WriteLine(line);
            }
            catch (InvalidOperationException)
            {
                // The test already finished; a background loop logged while the host stopped.
            }
        }
    }
}
