using System.Globalization;
using Microsoft.Extensions.Logging;
using ZkPow.Aggregator.Storage;

namespace ZkPow.Aggregator.Leadership;

/// <summary>
/// Brings final proofs stored by any replica to the leader's Proof Manager: the database notifies channel
/// <c>zkpow_final_&lt;miner&gt;</c> on every insert into <c>final_proofs</c> (a trigger, migration 7), and the leader
/// listens on it (<see cref="PostgresChannelListener"/>). A slow sweep (every
/// <see cref="PostgresChannelListener.SweepInterval"/> without a notification, and after every reconnection) covers
/// notifications lost while the connection was down.
/// </summary>
public sealed class FinalProofListener
{
    private readonly PostgresChannelListener _listener;

    public FinalProofListener(PostgresStore store, string miner, Action<ulong?> wake, ILogger<FinalProofListener> logger, TimeProvider time)
    {
        var channel = Channel(miner);
        if (!channel.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
        {
            throw new ArgumentException($"not a miner address: '{miner}'", nameof(miner));
        }

        _listener = new PostgresChannelListener(store, channel,
            payload => wake(ulong.TryParse(payload, NumberStyles.None, CultureInfo.InvariantCulture, out var final) ? final : null), logger, time);
    }

    /// <summary>The channel of <paramref name="miner"/>'s final proofs (the trigger's name for it).</summary>
    public static string Channel(string miner) => "zkpow_final_" + miner.ToLowerInvariant();

    /// <summary>Notifications received so far (for tests).</summary>
    public int Received => _listener.Received;

    /// <summary>Listens until <paramref name="cancellationToken"/>; reconnects after a lost connection.</summary>
    public Task RunAsync(CancellationToken cancellationToken) => _listener.RunAsync(cancellationToken);
}
