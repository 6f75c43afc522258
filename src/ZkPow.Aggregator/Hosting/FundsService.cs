using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ZkPow.Aggregator.Chain;

namespace ZkPow.Aggregator.Hosting;

/// <summary>The periodic gauges beside the transaction manager: the miner's gas balance and stake
/// (<see cref="MinerFunds"/>) and the backlog of parked tasks and transactions in flight (<see cref="BacklogMetrics"/>).</summary>
internal sealed class FundsService(IOptions<AggregatorOptions> options, StartupCheckService checks, StoreService store, TxManagerService transactions,
    EthRpcClient rpc, PartStopper stopper, ILoggerFactory loggers, TimeProvider time) : IHostedService
{
    private MinerFunds? _funds;
    private BacklogMetrics? _backlog;

    /// <summary>The miner's funds reader (null before start).</summary>
    public MinerFunds? Funds => _funds;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        _funds = new MinerFunds(rpc, o.Chain.RollupAddress, checks.Key.Address, o.Sender, loggers.CreateLogger<MinerFunds>(), time);
        _funds.Start();
        _backlog = new BacklogMetrics(store.Store, () => transactions.Running, loggers.CreateLogger<BacklogMetrics>(), time);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _backlog, null) is { } backlog)
        {
            await stopper.StopAsync("the backlog gauges", backlog.DisposeAsync).ConfigureAwait(false);
        }

        if (Interlocked.Exchange(ref _funds, null) is { } funds)
        {
            await stopper.StopAsync("the funds reader", funds.DisposeAsync).ConfigureAwait(false);
        }
    }
}
