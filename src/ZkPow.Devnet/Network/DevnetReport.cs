namespace ZkPow.Devnet.Network;

/// <summary>The devnet's summary, its figures read from the chain's events (and, for proving figures, the miners' stores).</summary>
public sealed record DevnetReport
{
    public required int SequencesSequenced { get; init; }
    public required int SequencesVerified { get; init; }
    public required int Slashes { get; init; }

    /// <summary>Our miners' commitments whose round has ended unrevealed and that nobody has settled yet: each one is a
    /// slash pending (it becomes one of <see cref="Slashes"/> once settled).</summary>
    public required int CommitmentsOverdue { get; init; }

    /// <summary>Our miners' commitments neither revealed nor slashed yet (overdue ones included).</summary>
    public required int CommitmentsOpen { get; init; }

    /// <summary><c>settle</c> transactions the devnet sent for overdue commitments (null when not known: <c>devnet report</c>).</summary>
    public required int? SettleCalls { get; init; }

    /// <summary>Hashes our miners committed whose proof (kept in their store under that hash) is not a valid proof bound
    /// to the miner (it does not decode, is not internally consistent, or is bound to another address); must be 0.</summary>
    public required int InvalidProofsCommitted { get; init; }

    /// <summary>Tasks parked by the miners' generators when the report was made.</summary>
    public required int ParkedTasks { get; init; }

    /// <summary>Sequences parked by the miners' senders when the report was made.</summary>
    public required int ParkedSequences { get; init; }

    /// <summary>The provers run as bad ones (<c>--bad-provers</c>) with their behaviour (null when not known here).</summary>
    public IReadOnlyList<DevnetBadProver>? BadProvers { get; init; }

    /// <summary>Why the run stopped before it was done, when nothing left could make progress (<c>--exit-when-done</c>).</summary>
    public string? Stalled { get; init; }

    /// <summary>Faults injected, reorgs made and outage time.</summary>
    public required DevnetFaultReport Faults { get; init; }
    public required string RewardsWei { get; init; }
    public required int TxsSent { get; init; }
    public required int TxsFailed { get; init; }
    public required IReadOnlyDictionary<string, long> ProofsGenerated { get; init; }
    public required long TasksRetried { get; init; }
    public required double? SequenceLatencyP50Blocks { get; init; }
    public required double? SequenceLatencyP99Blocks { get; init; }
    public required double? SequenceLatencyP50Ms { get; init; }
    public required double? SequenceLatencyP99Ms { get; init; }

    /// <summary>Final proof stored → submitProofHash broadcast (from the in-process aggregators; null when they run outside).</summary>
    public required double? HashBroadcastP99Ms { get; init; }

    public required double? HashBroadcastP50Ms { get; init; }

    /// <summary>How many hash broadcasts the latency figures are drawn from (the first one after start-up is not among them).</summary>
    public required int HashBroadcastSamples { get; init; }

    /// <summary>The first hash broadcast after start-up (cold connections and caches), worst over the miners.</summary>
    public double? HashBroadcastFirstMs { get; init; }

    /// <summary>The p99 of every hash broadcast, each miner's first after start-up included.</summary>
    public double? HashBroadcastWithFirstP99Ms { get; init; }

    /// <summary>How many hash broadcasts <see cref="HashBroadcastWithFirstP99Ms"/> is drawn from.</summary>
    public int HashBroadcastWithFirstSamples { get; init; }

    /// <summary>Trace spans of the sender's path to the hash broadcast (source <c>ZkPow.Aggregator.Sender</c>), by name.</summary>
    public IReadOnlyDictionary<string, DevnetSpanFigures>? SenderSpans { get; init; }

    /// <summary>The aggregator replicas and their kills (null when the aggregators run in this process).</summary>
    public DevnetReplicaReport? Replicas { get; init; }

    /// <summary>Sequences whose final proof the devnet's mock provers were asked for more than once (null when the devnet
    /// runs no mock provers).</summary>
    public IReadOnlyList<DevnetFinalRequests>? FinalProofsRequestedTwice { get; init; }

    /// <summary>How long the run took, start-up to report (null when not known here).</summary>
    public double? DurationSeconds { get; init; }

    public required long? RevealDelayBlocksMax { get; init; }
    public required ulong LastBlock { get; init; }
    public required IReadOnlyList<DevnetMinerReport> Miners { get; init; }
}
