using System.Data.Common;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ZkPow.Aggregator.Storage;

/// <summary>
/// <c>LISTEN</c>s on one PostgreSQL channel on a dedicated connection and hands each notification's payload to
/// <paramref name="onNotification"/>. A null payload asks for a sweep: after every (re)connection, for whatever was
/// announced while nobody listened, and after <see cref="SweepInterval"/> without a notification. A lost connection is
/// reopened after <see cref="ReconnectDelay"/>; the listener ends only with its token.
/// </summary>
public sealed partial class PostgresChannelListener(PostgresStore store, string channel, Action<string?> onNotification, ILogger logger,
    TimeProvider time)
{
    /// <summary>How long the listener waits for a notification before it asks for a sweep anyway.</summary>
    public static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(2);

    /// <summary>Notifications received so far.</summary>
    public int Received => Volatile.Read(ref _received);

    private int _received;

    /// <summary>Listens until <paramref name="cancellationToken"/>; reconnects after a lost connection.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (channel.Length == 0 || !channel.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
        {
            throw new ArgumentException($"not a channel name: '{channel}'", nameof(channel));
        }

        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await store.OpenListenerAsync(cancellationToken).ConfigureAwait(false);
                connection.Notification += (_, e) =>
                {
                    Interlocked.Increment(ref _received);
                    onNotification(e.Payload);
                };
                await using (var listen = new NpgsqlCommand($"LISTEN \"{channel}\";", connection))
                {
                    await listen.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                LogListening(logger, channel);
                onNotification(null); // Whatever was announced while nobody listened.
                while (!cancellationToken.IsCancellationRequested)
                {
                    if (!await connection.WaitAsync(SweepInterval, cancellationToken).ConfigureAwait(false))
                    {
                        onNotification(null);
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is DbException or IOException or TimeoutException or InvalidOperationException)
            {
                LogListenFailed(logger, channel, e.Message, ReconnectDelay.TotalSeconds);
                try
                {
                    await Task.Delay(ReconnectDelay, time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Listening on PostgreSQL channel {Channel}")]
    private static partial void LogListening(ILogger logger, string channel);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Listening on {Channel} failed: {Error}; reconnecting in {DelaySeconds:0.#} s")]
    private static partial void LogListenFailed(ILogger logger, string channel, string error, double delaySeconds);
}
