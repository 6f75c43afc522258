using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Manager;
using ZkPow.Aggregator.Sender;
using ZkPow.Aggregator.Sync;

namespace ZkPow.Aggregator.Hosting;

/// <summary>
/// The Proof Sender and the Proof Manager: the sender warms its read paths up, the manager rebuilds the sender's work
/// from the store (submitPendingProof) before anything new is sent, then both start their workers. Stopping stops the
/// manager, then the sender. With replicas on PostgreSQL they run only on the leader (<see cref="LeaderService"/>).
/// </summary>
internal sealed class SenderService(IOptions<AggregatorOptions> options, StartupCheckService checks, StoreService store, TxManagerService transactions,
    GeneratorService generator, RollupChainClient chain, RollupNodeClient rollupNode, SenderMetrics metrics, StartupRetry retry, PartStopper stopper,
    ILoggerFactory loggers, TimeProvider time) : IHostedService
{
    private ProofSender? _sender;
    private ProofManager? _manager;

    public ProofSender Sender => _sender ?? throw new InvalidOperationException("the proof sender has not started (a standby replica does not run it)");

    /// <summary>The Proof Manager while it runs, or null (before start, and on a standby replica).</summary>
    internal ProofManager? Manager => _manager;

    public Task StartAsync(CancellationToken cancellationToken) =>
        LeaderService.IsGated(options.Value) ? Task.CompletedTask : StartLeaderAsync(cancellationToken);

    /// <summary>Starts the sender and the manager (at start-up, or when this replica becomes leader).</summary>
    internal async Task StartLeaderAsync(CancellationToken cancellationToken)
    {
        var sender = new ProofSender(store.Store, chain, transactions.Manager, new RollupNodeRoots(rollupNode), new GeneratorReprover(generator.Generator),
            options.Value.Sender, metrics, loggers.CreateLogger<ProofSender>(), time);
        var manager = new ProofManager(store.Store, sender, chain, options.Value.Sender, loggers.CreateLogger<ProofManager>(), time)
        {
            FinalBeingStored = generator.Generator.IsStoringFinal,
        };
        _sender = sender;
        _manager = manager;
        generator.Generator.FinalProofStored += manager.OnFinalProofStored;
        // Reads only: a view that reverts on a lagging or lying node is retried like a node that is down.
        static bool Transient(Exception e) => StartupRetry.IsTransient(e) || e is InvalidOperationException;
        // The code from a stored final proof to its hash broadcast is compiled while the warm-up reads wait for the node.
        var preparation = Task.Run(() => CodePreparation.Prepare(typeof(CodePreparation).Assembly, CodePreparation.SenderPath,
            loggers.CreateLogger(typeof(CodePreparation))), CancellationToken.None);
        await retry.RunAsync("the proof sender's warm-up reads", sender.WarmUpAsync, cancellationToken, Transient).ConfigureAwait(false);
        await preparation.ConfigureAwait(false);
        // Loads the signer before the first real transaction needs it (a dry run, never sent).
        var key = checks.Key;
        _ = key.Sign(transactions.Manager.ChainId, 0, key.Address, 0, [], 21_000, new TxFees(1, 1, Legacy: false));
        // Idempotent: stored submissions go back into the sender's caches and their txs are found by key.
        await retry.RunAsync("the proof manager's submitPendingProof", manager.SubmitPendingProofAsync, cancellationToken, Transient).ConfigureAwait(false);
        sender.Start();
        manager.Start();
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var manager = Interlocked.Exchange(ref _manager, null);
        if (manager is not null)
        {
            if (generator.Running is { } running)
            {
                running.FinalProofStored -= manager.OnFinalProofStored;
            }

            await stopper.StopAsync("the proof manager", manager.DisposeAsync).ConfigureAwait(false);
        }

        var sender = Interlocked.Exchange(ref _sender, null);
        if (sender is not null)
        {
            await stopper.StopAsync("the proof sender", sender.DisposeAsync).ConfigureAwait(false);
        }
    }
}
