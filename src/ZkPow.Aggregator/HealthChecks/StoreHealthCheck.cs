using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using ZkPow.Aggregator.Hosting;

namespace ZkPow.Aggregator.HealthChecks;

/// <summary><c>store</c>: the store answers a read.</summary>
internal sealed class StoreHealthCheck(StoreService store, IOptions<AggregatorOptions> options, TimeProvider time) : IHealthCheck
{
    private readonly UnreachableTracker _tracker = new(options.Value.Health, time);

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        _tracker.ProbeAsync("the store", ct => store.Store.CountFinalProofsAsync(ct), cancellationToken);
}
