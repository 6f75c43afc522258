using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Hosting;

namespace ZkPow.Aggregator.HealthChecks;

/// <summary><c>baseChain</c>: the base chain's node answers <c>eth_blockNumber</c>.</summary>
internal sealed class BaseChainHealthCheck(RollupChainClient chain, IOptions<AggregatorOptions> options, TimeProvider time) : IHealthCheck
{
    private readonly UnreachableTracker _tracker = new(options.Value.Health, time);

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        _tracker.ProbeAsync("the base chain", ct => chain.GetBlockNumberAsync(ct), cancellationToken);
}
