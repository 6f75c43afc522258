using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using ZkPow.Aggregator.Chain;

namespace ZkPow.Devnet.Tests.Chain;

/// <summary>Keeps a tx manager's log lines (time, level and text) so that a failed wait can say what the manager did.</summary>
internal sealed class TxLog : ILogger<TxManager>
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        _lines.Enqueue(string.Create(CultureInfo.InvariantCulture,
            $"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {formatter(state, exception)}{(exception is null ? "" : " " + exception.Message)}"));
        while (_lines.Count > 2000 && _lines.TryDequeue(out _))
        {
        }
    }

    /// <summary>The last <paramref name="count"/> lines, oldest first.</summary>
    public string Tail(int count = 60) => string.Join('\n', _lines.TakeLast(count));
}
