using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.Storage;

namespace ZkPow.Aggregator.Hosting;

/// <summary>What <c>/api/status</c> returns and <c>zkpow status</c> prints.</summary>
public sealed record AggregatorStatus
{
    public required string MinerAddress { get; init; }
    public required ulong BaseChainId { get; init; }
    public required int ProverPort { get; init; }
    public required IReadOnlyList<ProverStatus> Provers { get; init; }
    public required IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> Tasks { get; init; }
    public required int ParkedTasks { get; init; }

    /// <summary>Sequences whose submission the sender parked (final proofs rejected too often, or failed goes); their
    /// proofs are not counted in <see cref="FinalProofs"/>.</summary>
    public required int ParkedSequences { get; init; }

    /// <summary>Stored final proofs, those of parked sequences excepted.</summary>
    public required int FinalProofs { get; init; }
    public required int PendingTxs { get; init; }
    public required long TasksCompleted { get; init; }
    public required long TasksRetried { get; init; }

    /// <summary><see cref="Healthy"/>, or <see cref="Degraded"/> while work waits for an operator (parked tasks or parked
    /// sequences).</summary>
    public required string Health { get; init; }

    public const string Healthy = "healthy";

    public const string Degraded = "degraded";

    /// <summary>A planned stop's progress (<c>zkpow drain</c>).</summary>
    public DrainStatus? Drain { get; init; }

    /// <summary>This replica's role: <c>leader</c> (it runs the sender, the sync and the transaction manager; always on
    /// SQLite) or <c>standby</c>.</summary>
    public string Role { get; init; } = "leader";

    /// <summary>This replica's id (<c>Replica:Id</c>); null on SQLite.</summary>
    public string? ReplicaId { get; init; }

    /// <summary>The replicas of this miner seen in the last minute (PostgreSQL only; null on SQLite), the leader first.</summary>
    public IReadOnlyList<ReplicaRecord>? Replicas { get; init; }
}
