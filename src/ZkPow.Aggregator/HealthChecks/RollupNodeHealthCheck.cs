using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using ZkPow.Aggregator.Hosting;
using ZkPow.Aggregator.Sync;

namespace ZkPow.Aggregator.HealthChecks;

/// <summary><c>rollupNode</c>: the rollup node answers <c>zkevm_batchNumber</c>.</summary>
internal sealed class RollupNodeHealthCheck(RollupNodeClient rollupNode, IOptions<AggregatorOptions> options, TimeProvider time) : IHealthCheck
{
    private readonly UnreachableTracker _tracker = new(options.Value.Health, time);

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        _tracker.ProbeAsync("the rollup node", ct => rollupNode.GetBatchNumberAsync(ct), cancellationToken);
}
