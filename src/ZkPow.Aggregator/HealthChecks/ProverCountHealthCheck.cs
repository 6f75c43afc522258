using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using ZkPow.Aggregator.Hosting;

namespace ZkPow.Aggregator.HealthChecks;

/// <summary><c>provers</c>: how many provers are connected; fewer than <see cref="HealthOptions.MinProvers"/> is
/// <c>degraded</c> (nothing is proved without provers, but the aggregator still serves and reveals), and so is a fleet
/// with quarantined provers (they failed too many jobs in a row and get no work for a while).</summary>
internal sealed class ProverCountHealthCheck(GeneratorService generator, IOptions<AggregatorOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var connected = generator.Generator.ConnectedProvers().Count;
        var minimum = options.Value.Health.MinProvers;
        var quarantined = generator.Generator.Quarantined;
        var data = new Dictionary<string, object> { ["connected"] = connected, ["quarantined"] = quarantined.Count };
        if (connected < minimum)
        {
            return Task.FromResult(HealthCheckResult.Degraded($"{connected} provers connected, fewer than {minimum}", data: data));
        }

        return Task.FromResult(quarantined.Count == 0
            ? HealthCheckResult.Healthy($"{connected} connected", data)
            : HealthCheckResult.Degraded(
                $"{connected} connected, {quarantined.Count} quarantined ({string.Join(", ", quarantined.Select(q => q.Name))})", data: data));
    }
}
