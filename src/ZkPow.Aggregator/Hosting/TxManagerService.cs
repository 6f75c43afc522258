using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ZkPow.Aggregator.Chain;

namespace ZkPow.Aggregator.Hosting;

/// <summary>The transaction manager: resumes the stored transactions and runs its polling loop until stopped. With replicas
/// on PostgreSQL it runs only on the leader: <see cref="LeaderService"/> starts and stops it with each term.</summary>
internal sealed class TxManagerService(IOptions<AggregatorOptions> options, StartupCheckService checks, StoreService store, EthRpcClient rpc,
    StartupRetry retry, PartStopper stopper, ILoggerFactory loggers, TimeProvider time) : IHostedService
{
    private TxManager? _manager;

    public TxManager Manager => _manager ?? throw new InvalidOperationException("the transaction manager has not started (a standby replica does not run it)");

    /// <summary>The manager while it runs, or null (before start, and on a standby replica).</summary>
    public TxManager? Running => _manager;

    public Task StartAsync(CancellationToken cancellationToken) =>
        LeaderService.IsGated(options.Value) ? Task.CompletedTask : StartLeaderAsync(cancellationToken);

    /// <summary>Starts the manager (at start-up, or when this replica becomes leader).</summary>
    internal async Task StartLeaderAsync(CancellationToken cancellationToken)
    {
        var manager = new TxManager(store.Store, rpc, checks.Key, options.Value.TxManager, loggers.CreateLogger<TxManager>(), time);
        try
        {
            // Loading the open txs is idempotent, so a start that failed on the node is simply run again.
            await retry.RunAsync("the transaction manager's start (nonce and open transactions)", manager.StartAsync, cancellationToken)
                .ConfigureAwait(false);
        }
        catch
        {
            await manager.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        _manager = manager;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var manager = Interlocked.Exchange(ref _manager, null);
        if (manager is not null)
        {
            await stopper.StopAsync("the transaction manager", manager.DisposeAsync).ConfigureAwait(false);
        }
    }
}
