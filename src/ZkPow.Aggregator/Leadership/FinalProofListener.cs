using System.Data.Common;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Npgsql;
using ZkPow.Aggregator.Storage;

namespace ZkPow.Aggregator.Leadership;

/// <summary>
/// Brings final proofs stored by any replica to the leader's Proof Manager: the database notifies channel
/// <c>zkpow_final_&lt;miner&gt;</c> on every insert into <c>final_proofs</c> (a trigger, migration 7), and the leader
/// <c>LISTEN</c>s on a dedicated connection (<see cref="NpgsqlConnection.WaitAsync(TimeSpan, CancellationToken)"/>). A slow
/// sweep (every <see cref="SweepInterval"/> without a notification, and after every reconnection) covers notifications
/// lost while the connection was down.
/// </summary>
public sealed partial class FinalProofListener(PostgresStore store, string miner, Action<ulong?> wake, ILogger<FinalProofListener> logger,
    TimeProvider time)
{
    /// <summary>How long the listener waits for a notification before it asks for a sweep anyway.</summary>
    public static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(2);

    /// <summary>The channel of <paramref name="miner"/>'s final proofs (the trigger's name for it).</summary>
    public static string Channel(string miner) => "zkpow_final_" + miner.ToLowerInvariant();

    /// <summary>Notifications received so far (for tests).</summary>
    public int Received => Volatile.Read(ref _received);

    private int _received;

    /// <summary>Listens until <paramref name="cancellationToken"/>; reconnects after a lost connection.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var channel = Channel(miner);
        if (!channel.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
        {
            throw new ArgumentException($"not a miner address: '{miner}'", nameof(miner));
        }

        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await store.OpenListenerAsync(cancellationToken).ConfigureAwait(false);
                connection.Notification += (_, e) =>
                {
                    Interlocked.Increment(ref _received);
                    wake(ulong.TryParse(e.Payload, NumberStyles.None, CultureInfo.InvariantCulture, out var final) ? final : null);
                };
                await using (var listen = new NpgsqlCommand($"LISTEN \"{channel}\";", connection))
                {
                    await listen.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                LogListening(channel);
                wake(null); // Whatever was stored while nobody listened.
                while (!cancellationToken.IsCancellationRequested)
                {
                    if (!await connection.WaitAsync(SweepInterval, cancellationToken).ConfigureAwait(false))
                    {
                        wake(null);
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is DbException or IOException or TimeoutException or InvalidOperationException)
            {
                LogListenFailed(channel, e.Message, ReconnectDelay.TotalSeconds);
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Listening for final proofs stored by any replica on channel {Channel}")]
    private partial void LogListening(string channel);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Listening on {Channel} failed: {Error}; reconnecting in {DelaySeconds:0.#} s")]
    private partial void LogListenFailed(string channel, string error, double delaySeconds);
}
