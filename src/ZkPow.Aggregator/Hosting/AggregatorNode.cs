using Microsoft.Extensions.Options;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.HealthChecks;
using ZkPow.Aggregator.Sender;
using ZkPow.Aggregator.Storage;
using ZkPow.Aggregator.Sync;

namespace ZkPow.Aggregator.Hosting;

/// <summary>
/// A read-only view of one aggregator composed on the Generic Host (<see cref="AggregatorHost"/>): its phase, the
/// figures the status page and the devnet show, and (inside the assembly) the parts the operator endpoint reads. The
/// parts themselves belong to their hosted services, which start and stop them.
/// </summary>
public sealed class AggregatorNode
{
    private readonly AggregatorReadiness _readiness;
    private readonly StartupCheckService _checks;
    private readonly StoreService _store;
    private readonly TxManagerService _transactions;
    private readonly GeneratorService _generator;
    private readonly ProverServerService _provers;
    private readonly SenderService _sender;
    private readonly DrainCoordinator _drain;

    internal AggregatorNode(IOptions<AggregatorOptions> options, AggregatorReadiness readiness, StartupCheckService checks, StoreService store,
        TxManagerService transactions, GeneratorService generator, ProverServerService provers, SenderService sender, RollupChainClient chain,
        RollupNodeClient rollupNode, GeneratorMetrics metrics, SenderMetrics senderMetrics, SyncMetrics syncMetrics, DrainCoordinator drain,
        AggregatorHealth health)
    {
        Health = health;
        _drain = drain;
        Options = options.Value;
        _readiness = readiness;
        _checks = checks;
        _store = store;
        _transactions = transactions;
        _generator = generator;
        _provers = provers;
        _sender = sender;
        Chain = chain;
        RollupNode = rollupNode;
        Metrics = metrics;
        SenderMetrics = senderMetrics;
        SyncMetrics = syncMetrics;
    }

    public AggregatorOptions Options { get; }

    public AggregatorPhase Phase => _readiness.Phase;

    /// <summary>While starting, what start-up does or waits for.</summary>
    public string PhaseReason => _readiness.Reason;

    public bool IsRunning => _readiness.IsRunning;

    public string MinerAddress => _checks.Key.Address;

    public ulong BaseChainId => _checks.BaseChainId;

    public int ProverPort => _provers.Server.Port;

    public Uri ProverAddress => _provers.Server.Address;

    /// <summary>Transactions of ours that are not final yet (0 before the transaction manager runs).</summary>
    public int TxsInFlight => _readiness.IsRunning ? _transactions.Running?.InFlight ?? 0 : 0;

    public GeneratorMetrics Metrics { get; }

    /// <summary>The planned stop's progress (state <c>none</c> until one is asked for).</summary>
    public DrainStatus Drain => _drain.Status;

    /// <summary>True once a drain has finished: every commitment of ours revealed, no tx of ours in flight.</summary>
    public bool Drained => _drain.State == DrainState.Drained;

    /// <summary>Begins a planned stop (see <see cref="DrainCoordinator"/>); the aggregator must be running.</summary>
    public Task<DrainStatus> BeginDrainAsync(CancellationToken cancellationToken) => _drain.BeginAsync(cancellationToken);

    /// <summary>The drain's status once it changes from <paramref name="seen"/>, or after <paramref name="timeout"/>.</summary>
    public Task<DrainStatus> WaitForDrainChangeAsync(DrainStatus seen, TimeSpan timeout, CancellationToken cancellationToken) =>
        _drain.WaitForChangeAsync(seen, timeout, cancellationToken);

    public SenderMetrics SenderMetrics { get; }

    public SyncMetrics SyncMetrics { get; }

    internal IAggregatorStore Store => _store.Store;

    internal ProofGenerator Generator => _generator.Generator;

    internal ProofSender Sender => _sender.Sender;

    /// <summary>The transaction manager (once started).</summary>
    internal TxManager Transactions => _transactions.Manager;

    internal RollupChainClient Chain { get; }

    /// <summary>The health checks (<c>/health/ready</c>, the gRPC health service).</summary>
    internal AggregatorHealth Health { get; }

    internal IRollupNode RollupNode { get; }

    /// <summary>Set by the composition: the replica's leader election (see <see cref="LeaderService"/>).</summary>
    internal LeaderService? Leader { get; init; }

    /// <summary>Final proofs in the store.</summary>
    public Task<int> CountFinalProofsAsync(CancellationToken cancellationToken) => Store.CountFinalProofsAsync(cancellationToken);

    /// <summary>The status page's figures, read now.</summary>
    public async Task<AggregatorStatus> GetStatusAsync(CancellationToken cancellationToken)
    {
        var counts = await Store.CountTasksAsync(cancellationToken).ConfigureAwait(false);
        var parkedSequences = (await Store.ListSenderParkedAsync(cancellationToken).ConfigureAwait(false)).Count;
        var parkedTasks = counts.Where(c => c.Key.State == TaskState.Parked).Sum(c => c.Value);
        var tasks = counts.GroupBy(c => c.Key.Kind.ToString())
            .ToDictionary(g => g.Key, g => (IReadOnlyDictionary<string, int>)g.ToDictionary(c => c.Key.State.ToString(), c => c.Value));
        return new AggregatorStatus
        {
            MinerAddress = MinerAddress,
            BaseChainId = BaseChainId,
            ProverPort = ProverPort,
            Provers = Generator.ConnectedProvers(),
            Tasks = tasks,
            ParkedTasks = parkedTasks,
            ParkedSequences = parkedSequences,
            FinalProofs = await Store.CountUnparkedFinalProofsAsync(cancellationToken).ConfigureAwait(false),
            PendingTxs = TxsInFlight,
            TasksCompleted = Metrics.CompletedTotal,
            TasksRetried = Metrics.Retries,
            Health = parkedTasks > 0 || parkedSequences > 0 || Generator.Quarantined.Count > 0 ? AggregatorStatus.Degraded : AggregatorStatus.Healthy,
            Drain = Drain,
            Role = Leader?.IsLeader ?? true ? "leader" : "standby",
            ReplicaId = Leader?.Election?.Holder,
            Replicas = Store is PostgresStore postgres
                ? await postgres.ListReplicasAsync(MinerAddress.ToLowerInvariant(), TimeSpan.FromMinutes(1), cancellationToken).ConfigureAwait(false)
                : null,
        };
    }
}
