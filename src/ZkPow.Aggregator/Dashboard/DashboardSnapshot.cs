using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Hosting;

namespace ZkPow.Aggregator.Dashboard;

/// <summary>
/// What <c>GET /api/dashboard</c> returns and <c>GET /api/events</c> pushes: the status figures (the same object as
/// <c>/api/status</c>), the base chain's head and windows, sequences, transactions, rewards and slashes, parked tasks.
/// While the aggregator starts or stops, only the phase and its reason are filled.
/// </summary>
public sealed record DashboardSnapshot
{
    public required DateTimeOffset Time { get; init; }
    public required string Phase { get; init; }
    public required string PhaseReason { get; init; }

    /// <summary>Whether state-changing requests need the operator token (<c>Http:OperatorTokenHash</c> is set).</summary>
    public required bool TokenRequired { get; init; }
    public AggregatorStatus? Status { get; init; }

    /// <summary>The base chain's head block, or null when it did not answer.</summary>
    public ulong? Block { get; init; }
    public ProofWindows? Windows { get; init; }
    /// <summary>The last synced sequences (newest first), with their stage.</summary>
    public IReadOnlyList<DashboardSequence> Sequences { get; init; } = [];

    /// <summary>All synced sequences whose verification on chain is ours.</summary>
    public int SequencesVerified { get; init; }
    public IReadOnlyList<DashboardTx> Txs { get; init; } = [];
    public IReadOnlyList<DashboardEarning> Earnings { get; init; } = [];
    public IReadOnlyList<OperatorEndpoint.TaskView> ParkedTasks { get; init; } = [];

    /// <summary>What could not be read this time (the rest of the snapshot is still current).</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];
}
