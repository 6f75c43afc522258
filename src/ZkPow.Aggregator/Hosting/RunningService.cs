using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ZkPow.Aggregator.Hosting;

/// <summary>Registered last: once every part before it has started, the aggregator is running; at shutdown (first to
/// stop) the operator endpoint starts answering "stopping".</summary>
internal sealed partial class RunningService(AggregatorReadiness readiness, StartupCheckService checks, ProverServerService provers,
    OperatorEndpointService http, ILogger<RunningService> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        readiness.Running();
        LogStarted(checks.Key.Address, checks.BaseChainId, provers.Server.Port, http.Endpoint.Port);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        readiness.Stopping();
        LogStopping();
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Aggregator of miner {Miner} running on base chain {ChainId}: provers dial port {ProverPort}, status on port {HttpPort}")]
    private partial void LogStarted(string miner, ulong chainId, int proverPort, int httpPort);

    [LoggerMessage(Level = LogLevel.Information, Message = "Aggregator stopping: the sync, the prover endpoint, the sender, the generator, the transaction manager, the store, then the operator endpoint")]
    private partial void LogStopping();
}
