using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using ZkPow.Aggregator.Hosting;

namespace ZkPow.Aggregator.HealthChecks;

/// <summary><c>provers</c>: how many provers are connected; fewer than <see cref="HealthOptions.MinProvers"/> is
/// <c>degraded</c> (nothing is proved without provers, but the aggregator still serves and reveals).</summary>
internal sealed class ProverCountHealthCheck(GeneratorService generator, IOptions<AggregatorOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var connected = generator.Generator.ConnectedProvers().Count;
        var minimum = options.Value.Health.MinProvers;
        var data = new Dictionary<string, object> { ["connected"] = connected };
        return Task.FromResult(connected >= minimum
            ? HealthCheckResult.Healthy($"{connected} connected", data)
            : HealthCheckResult.Degraded($"{connected} provers connected, fewer than {minimum}", data: data));
    }
}
