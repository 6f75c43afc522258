namespace ZkPow.Devnet.Network;

/// <summary>The aggregator replicas of a devnet run (<c>--replicas</c>, <c>--kill-replicas</c>).</summary>
public sealed record DevnetReplicaReport
{
    /// <summary>Replicas per miner.</summary>
    public required int Count { get; init; }

    /// <summary>Replicas killed with SIGKILL (<c>--kill-replicas</c>).</summary>
    public required int Kills { get; init; }

    /// <summary>Kills that took the miner's leader at that moment.</summary>
    public required int LeaderKills { get; init; }

    /// <summary>Killed replicas started again.</summary>
    public required int Restarts { get; init; }

    /// <summary>Replica exits the devnet did not cause (crashes, failed starts); must be 0.</summary>
    public required int UnexpectedExits { get; init; }
}
