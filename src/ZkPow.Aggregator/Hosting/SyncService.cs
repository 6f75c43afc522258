using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Sync;

namespace ZkPow.Aggregator.Hosting;

/// <summary>The rollup sync loop: follows the base chain's sequences and hands them to the generator until stopped. With
/// replicas on PostgreSQL it runs only on the leader (<see cref="LeaderService"/>).</summary>
internal sealed partial class SyncService(IOptions<AggregatorOptions> options, StartupCheckService checks, StoreService store, GeneratorService generator,
    RollupChainClient chain, EthRpcClient rpc, RollupNodeClient rollupNode, SyncMetrics metrics, ILoggerFactory loggers, TimeProvider time,
    ILogger<SyncService> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        LeaderService.IsGated(options.Value) ? Task.CompletedTask : RunLeaderAsync(stoppingToken);

    /// <summary>Runs the sync until <paramref name="stoppingToken"/> (the host's stop, or the end of this replica's term).</summary>
    internal async Task RunLeaderAsync(CancellationToken stoppingToken)
    {
        var sync = new RollupSync(chain, rpc, rollupNode, store.Store, new GeneratorSequenceSink(generator.Generator), options.Value.Sync,
            checks.Key.Address, metrics, loggers.CreateLogger<RollupSync>(), time);
        try
        {
            await sync.RunAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
        catch (Exception ex) when (stoppingToken.IsCancellationRequested)
        {
            // A call that failed as the node went away during shutdown.
            LogStopFault(ex.GetType().Name, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The rollup sync ended with {Error} while stopping: {Reason}")]
    private partial void LogStopFault(string error, string reason);
}
