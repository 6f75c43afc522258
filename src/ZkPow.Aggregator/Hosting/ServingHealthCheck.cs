using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ZkPow.Aggregator.Hosting;

/// <summary>The one check of the prover port's gRPC health service: SERVING while <paramref name="serving"/> says so
/// (the aggregator's own health checks), NOT_SERVING otherwise.</summary>
internal sealed class ServingHealthCheck(Func<CancellationToken, Task<bool>> serving) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        await serving(cancellationToken).ConfigureAwait(false) ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("the aggregator is not ready");
}
