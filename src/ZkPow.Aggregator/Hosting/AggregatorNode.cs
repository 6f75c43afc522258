using Microsoft.Extensions.Logging;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.Manager;
using ZkPow.Aggregator.Sender;
using ZkPow.Aggregator.Storage;
using ZkPow.Aggregator.Sync;

namespace ZkPow.Aggregator.Hosting;

/// <summary>
/// One running aggregator: the store, the base-chain client and transaction manager, the Proof Generator with its
/// prover endpoint, and the operator endpoint. Start-up checks the configuration against reality (the base chain's
/// id, the rollup's fork id) before anything is written.
/// </summary>
public sealed partial class AggregatorNode : IAsyncDisposable
{
    private readonly ILogger _logger;
    private readonly List<IAsyncDisposable> _parts = [];

    private AggregatorNode(AggregatorOptions options, ILogger logger)
    {
        Options = options;
        _logger = logger;
    }

    public AggregatorOptions Options { get; }
    public SqliteStore Store { get; private set; } = null!;
    public ProofGenerator Generator { get; private set; } = null!;
    public GeneratorMetrics Metrics { get; private set; } = null!;
    public ProverServer ProverServer { get; private set; } = null!;
    public OperatorEndpoint Http { get; private set; } = null!;
    public EthRpcClient Rpc { get; private set; } = null!;
    public RollupChainClient Chain { get; private set; } = null!;
    public TxManager Transactions { get; private set; } = null!;
    public ulong BaseChainId { get; private set; }
    public RollupSync Sync { get; private set; } = null!;
    public ProofSender Sender { get; private set; } = null!;
    public ProofManager Manager { get; private set; } = null!;
    public SenderMetrics SenderMetrics { get; private set; } = null!;
    public SyncMetrics SyncMetrics { get; private set; } = null!;
    public MinerFunds Funds { get; private set; } = null!;

    private readonly CancellationTokenSource _stopping = new();
    private Task _syncLoop = Task.CompletedTask;
    private RollupNodeClient? _rollupNode;

    /// <summary>The rollup node the sync and the sender read.</summary>
    public IRollupNode RollupNode => _rollupNode!;

    public static async Task<AggregatorNode> StartAsync(AggregatorOptions options, ILoggerFactory loggers, TimeProvider time, CancellationToken cancellationToken)
    {
        options.Validate();
        var node = new AggregatorNode(options, loggers.CreateLogger<AggregatorNode>());
        try
        {
            await node.StartCoreAsync(loggers, time, cancellationToken).ConfigureAwait(false);
            return node;
        }
        catch
        {
            await node.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task StartCoreAsync(ILoggerFactory loggers, TimeProvider time, CancellationToken cancellationToken)
    {
        // Local configuration first (the key and its password), then what the network says.
        var key = TxKey.Load(Options.Key);
        WarnExposedSecrets();
        Rpc = EthRpcClient.Create(Options.Chain, loggers, time);
        try
        {
            var reply = await Rpc.CallAsync("eth_chainId", cancellationToken).ConfigureAwait(false);
            BaseChainId = Convert.ToUInt64(reply.GetString(), 16);
        }
        catch (Exception ex) when (ex is ChainUnavailableException or EthRpcException or FormatException or InvalidOperationException)
        {
            throw new OptionsException("Chain:RpcUrl", $"the base chain at {Options.Chain.RpcUrl} does not answer eth_chainId ({ex.Message})");
        }

        if (Options.ExpectedChainId is { } expected && expected != BaseChainId)
        {
            throw new OptionsException("ExpectedChainId", $"the base chain at {Options.Chain.RpcUrl} has chain id {BaseChainId}, not {expected}");
        }

        RequireExpectedChainId();

        Chain = new RollupChainClient(Rpc, Options.Chain.RollupAddress);
        RollupIdentity identity;
        try
        {
            identity = await Chain.GetRollupIdentityAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ChainUnavailableException or EthRpcException or FormatException or InvalidOperationException)
        {
            throw new OptionsException("Chain:RollupAddress", $"no rollup contract answers forkID() at {Options.Chain.RollupAddress} ({ex.Message})");
        }

        if (identity.ForkId != Options.Provers.ForkId)
        {
            throw new OptionsException("Provers:ForkId", $"the rollup contract's forkID() is {identity.ForkId}, the configuration says {Options.Provers.ForkId}");
        }

        if (key.IsDevKey && !TxKey.DevnetChainIds.Contains(BaseChainId))
        {
            throw new OptionsException("Key:DevPrivateKey", $"a raw key is only accepted on a devnet chain, not on chain {BaseChainId}; use a keystore");
        }

        var rollupNode = RollupNodeClient.Create(Options.Sync, Options.Chain, loggers, time);
        _rollupNode = rollupNode;
        try
        {
            await rollupNode.GetBatchNumberAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ChainUnavailableException or RollupNodeException)
        {
            throw new OptionsException("Sync:RollupNodeUrl", $"the rollup node at {Options.Sync.RollupNodeUrl} does not answer zkevm_batchNumber ({ex.Message})");
        }

        Store = await SqliteStore.OpenAsync(Options.Store, time, cancellationToken).ConfigureAwait(false);
        _parts.Add(Store);
        Transactions = new TxManager(Store, Rpc, key, Options.TxManager, loggers.CreateLogger<TxManager>(), time);
        _parts.Add(Transactions);
        await Transactions.StartAsync(cancellationToken).ConfigureAwait(false);
        _parts.Add(Funds = new MinerFunds(Rpc, Options.Chain.RollupAddress, key.Address, Options.Sender, loggers.CreateLogger<MinerFunds>(), time));
        Funds.Start();
        _parts.Add(new BacklogMetrics(Store, Transactions, loggers.CreateLogger<BacklogMetrics>(), time));

        Metrics = new GeneratorMetrics();
        Generator = new ProofGenerator(Store, Options.Generator, key.Address, Metrics, loggers.CreateLogger<ProofGenerator>(), time);
        _parts.Add(Generator);
        await Generator.StartAsync(cancellationToken).ConfigureAwait(false);
        // The Proof Manager rebuilds the sender's work (submitPendingProof) before anything new is sent.
        SenderMetrics = new SenderMetrics();
        Sender = new ProofSender(Store, Chain, Transactions, new RollupNodeRoots(rollupNode), new GeneratorReprover(Generator), Options.Sender,
            SenderMetrics, loggers.CreateLogger<ProofSender>(), time);
        _parts.Add(Sender);
        Manager = new ProofManager(Store, Sender, Chain, Options.Sender, loggers.CreateLogger<ProofManager>(), time);
        _parts.Add(Manager);
        Generator.FinalProofStored += Manager.OnFinalProofStored;
        await Sender.WarmUpAsync(cancellationToken).ConfigureAwait(false);
        // Loads the signer before the first real transaction needs it (a dry run, never sent).
        _ = key.Sign(Transactions.ChainId, 0, key.Address, 0, [], 21_000, new TxFees(1, 1, Legacy: false));
        await Manager.SubmitPendingProofAsync(cancellationToken).ConfigureAwait(false);
        Sender.Start();
        Manager.Start();
        ProverServer = await ProverServer.StartAsync(Options.ProverServer, Options.Provers, Generator, loggers, time, cancellationToken).ConfigureAwait(false);
        _parts.Add(ProverServer);
        SyncMetrics = new SyncMetrics();
        Sync = new RollupSync(Chain, Rpc, rollupNode, Store, new GeneratorSequenceSink(Generator), Options.Sync, key.Address, SyncMetrics,
            loggers.CreateLogger<RollupSync>(), time);
        _syncLoop = Task.Run(() => Sync.RunAsync(_stopping.Token), CancellationToken.None);
        Http = await OperatorEndpoint.StartAsync(Options.Http, this, loggers, cancellationToken).ConfigureAwait(false);
        _parts.Add(Http);
        LogStarted(key.Address, BaseChainId, ProverServer.Port, Http.Port);
    }

    /// <summary>The status page's figures, read now.</summary>
    public async Task<AggregatorStatus> GetStatusAsync(CancellationToken cancellationToken)
    {
        var counts = await Store.CountTasksAsync(cancellationToken).ConfigureAwait(false);
        var tasks = counts.GroupBy(c => c.Key.Kind.ToString())
            .ToDictionary(g => g.Key, g => (IReadOnlyDictionary<string, int>)g.ToDictionary(c => c.Key.State.ToString(), c => c.Value));
        return new AggregatorStatus
        {
            MinerAddress = Transactions.Address,
            BaseChainId = BaseChainId,
            ProverPort = ProverServer.Port,
            Provers = Generator.ConnectedProvers(),
            Tasks = tasks,
            ParkedTasks = counts.Where(c => c.Key.State == TaskState.Parked).Sum(c => c.Value),
            FinalProofs = await Store.CountFinalProofsAsync(cancellationToken).ConfigureAwait(false),
            PendingTxs = Transactions.InFlight,
            TasksCompleted = Metrics.CompletedTotal,
            TasksRetried = Metrics.Retries,
        };
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _syncLoop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        // Stop taking work first (endpoints), then the workers, then the store they write to.
        for (var i = _parts.Count - 1; i >= 0; i--)
        {
            try
            {
                await _parts[i].DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException or OperationCanceledException)
            {
                LogStopFailed(ex, _parts[i].GetType().Name);
            }
        }

        _parts.Clear();
        Rpc?.Dispose();
        Metrics?.Dispose();
        SyncMetrics?.Dispose();
        SenderMetrics?.Dispose();
        _rollupNode?.Dispose();
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Aggregator of miner {Miner} running on base chain {ChainId}: provers dial port {ProverPort}, status on port {HttpPort}")]
    private partial void LogStarted(string miner, ulong chainId, int proverPort, int httpPort);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopping {Part} failed")]
    private partial void LogStopFailed(Exception error, string part);
}
