using Microsoft.Extensions.Logging;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.Hosting;
using ZkPow.Aggregator.Manager;
using ZkPow.Aggregator.Sender;
using ZkPow.Aggregator.Storage;

namespace ZkPow.Devnet.Tests.Sender;

/// <summary>
/// A test composition of one miner's aggregator without sync or HTTP endpoint (zkpow run composes the full one,
/// <c>AggregatorNode</c>): store, chain client, tx manager, proof generator with its prover gRPC server,
/// Proof Manager and Proof Sender, wired and started in order (the tx manager resumes its txs, then submitPendingProof
/// rebuilds the sender's work, then the workers start). Disposing stops it; a new instance on the same store resumes.
/// </summary>
internal sealed class MinerAggregator : IAsyncDisposable
{
    private readonly EthRpcClient _rpc;

    private MinerAggregator(SqliteStore store, EthRpcClient rpc, RollupChainClient chain, TxManager tx, ProofGenerator generator,
        ProverServer server, ProofSender sender, ProofManager manager)
    {
        Store = store;
        _rpc = rpc;
        Chain = chain;
        Tx = tx;
        Generator = generator;
        Server = server;
        Sender = sender;
        Manager = manager;
    }

    public SqliteStore Store { get; }
    public IRollupChain Chain { get; }
    public TxManager Tx { get; }
    public ProofGenerator Generator { get; }
    public ProverServer Server { get; }
    public ProofSender Sender { get; }
    public ProofManager Manager { get; }

    /// <summary>The miner's address.</summary>
    public string Miner => Tx.Address;

    public static async Task<MinerAggregator> StartAsync(MinerAggregatorOptions options, IBatchRootsSource roots, ILoggerFactory loggers,
        TimeProvider time, CancellationToken cancellationToken, SenderMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var key = TxKey.Load(options.Key);
        var store = await SqliteStore.OpenAsync(options.Store, time, cancellationToken).ConfigureAwait(false);
        var rpc = new EthRpcClient(options.Chain.RpcUrl, options.Chain.RequestTimeout);
        var chain = new RollupChainClient(rpc, options.Chain.RollupAddress);
        var tx = new TxManager(store, rpc, key, options.TxManager, loggers.CreateLogger<TxManager>(), time);
        await tx.StartAsync(cancellationToken).ConfigureAwait(false);
        var generator = new ProofGenerator(store, options.Generator, key.Address, new GeneratorMetrics(), loggers.CreateLogger<ProofGenerator>(), time);
        await generator.StartAsync(cancellationToken).ConfigureAwait(false);
        var sender = new ProofSender(store, chain, tx, roots, new GeneratorReprover(generator), options.Sender, metrics ?? new SenderMetrics(),
            loggers.CreateLogger<ProofSender>(), time);
        var manager = new ProofManager(store, sender, chain, options.Sender, loggers.CreateLogger<ProofManager>(), time);
        generator.FinalProofStored += manager.OnFinalProofStored;
        await sender.WarmUpAsync(cancellationToken).ConfigureAwait(false);
        _ = key.Sign(tx.ChainId, 0, key.Address, 0, [], 21_000, new TxFees(1, 1, Legacy: false)); // loads the signer (a dry run, never sent)
        await manager.SubmitPendingProofAsync(cancellationToken).ConfigureAwait(false);
        sender.Start();
        manager.Start();
        var server = await ProverServer.StartAsync(options.ProverServer, options.ProverSession, generator, loggers, time, cancellationToken)
            .ConfigureAwait(false);
        return new MinerAggregator(store, rpc, chain, tx, generator, server, sender, manager);
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync().ConfigureAwait(false);
        await Manager.DisposeAsync().ConfigureAwait(false);
        await Sender.DisposeAsync().ConfigureAwait(false);
        await Generator.DisposeAsync().ConfigureAwait(false);
        await Tx.DisposeAsync().ConfigureAwait(false);
        await Store.DisposeAsync().ConfigureAwait(false);
        _rpc.Dispose();
    }
}
