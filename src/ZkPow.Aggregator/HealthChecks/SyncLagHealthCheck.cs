using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using ZkPow.Aggregator.Hosting;
using ZkPow.Aggregator.Sync;

namespace ZkPow.Aggregator.HealthChecks;

/// <summary><c>sync</c>: the rollup sync follows the chain within <see cref="HealthOptions.MaxSyncLagBlocks"/> (by
/// default its confirmation depth plus 10 blocks).</summary>
internal sealed class SyncLagHealthCheck(SyncMetrics metrics, IOptions<AggregatorOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var lag = metrics.LagBlocks;
        var allowed = options.Value.Health.MaxSyncLagBlocks ?? (long)options.Value.Sync.Confirmations + 10;
        return Task.FromResult(lag <= allowed
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy($"{lag} blocks behind the chain (ready at {allowed} or less)"));
    }
}
