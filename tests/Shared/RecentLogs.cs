using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace ZkPow.Tests;

/// <summary>
/// A logger factory that keeps the last <see cref="Capacity"/> lines logged (Information and above; ASP.NET Core's own
/// from Warning) in memory, so that a test that times out can put what the program was doing into its failure message
/// (a test's output is only shown when it ends).
/// </summary>
internal sealed class RecentLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public RecentLogs(int capacity = 400, LogLevel minimum = LogLevel.Information)
    {
        Capacity = capacity;
        Factory = LoggerFactory.Create(builder => builder.SetMinimumLevel(minimum).AddFilter("Microsoft", LogLevel.Warning).AddProvider(this));
    }

    public int Capacity { get; }

    public ILoggerFactory Factory { get; }

    /// <summary>The last <paramref name="count"/> lines, oldest first.</summary>
    public string Tail(int count) => string.Join(Environment.NewLine, _lines.ToArray().TakeLast(count));

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName[(categoryName.LastIndexOf('.') + 1)..]);

    public void Dispose()
    {
    }

    private void Add(string line)
    {
        _lines.Enqueue(line);
        while (_lines.Count > Capacity && _lines.TryDequeue(out _))
        {
        }
    }

    private sealed class Logger(RecentLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var time = DateTime.UtcNow.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture);
            var error = exception is null ? "" : $" ({exception.GetType().Name}: {exception.Message})";
            owner.Add($"{time} {logLevel.ToString()[..4]} {category}: {formatter(state, exception)}{error}");
        }
    }
}
