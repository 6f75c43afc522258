using Microsoft.Extensions.Diagnostics.HealthChecks;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Hosting;

namespace ZkPow.Aggregator.HealthChecks;

/// <summary><c>leaseSweeper</c>: the generator's lease sweeper (which gives the work of vanished provers back) is not
/// failing.</summary>
internal sealed class LeaseSweeperHealthCheck(GeneratorService generator) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(generator.Generator.LeaseSweepError is { } error
            ? HealthCheckResult.Unhealthy(UrlRedaction.Redact($"the lease sweeper fails: {error}"))
            : HealthCheckResult.Healthy());
}
