using Microsoft.Extensions.Diagnostics.HealthChecks;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Hosting;

namespace ZkPow.Aggregator.HealthChecks;

/// <summary>
/// The aggregator's health, answered from one set of <see cref="IHealthCheck"/>s for <c>/health/ready</c> and the gRPC
/// health service on the prover port. While the aggregator starts or stops it is unhealthy with the phase's reason;
/// running: unhealthy if a check is (503, NOT_SERVING), degraded (still ready) if one is, else healthy.
/// </summary>
internal sealed class AggregatorHealth(HealthCheckService checks, AggregatorReadiness readiness)
{
    /// <summary>The names the checks are registered under, in the order they are shown.</summary>
    public static readonly string[] CheckNames = ["store", "baseChain", "rollupNode", "sync", "provers", "parked", "leaseSweeper"];

    public async Task<AggregatorHealthReport> CheckAsync(CancellationToken cancellationToken)
    {
        if (!readiness.IsRunning)
        {
            var phase = readiness.Phase.ToString().ToLowerInvariant();
            return new AggregatorHealthReport(HealthStatus.Unhealthy, phase,
                new Dictionary<string, string> { [phase] = UrlRedaction.Redact(readiness.Reason) });
        }

        var report = await checks.CheckHealthAsync(cancellationToken).ConfigureAwait(false);
        var shown = new Dictionary<string, string>();
        foreach (var name in CheckNames.Where(report.Entries.ContainsKey).Concat(report.Entries.Keys.Except(CheckNames)))
        {
            var entry = report.Entries[name];
            shown[name] = entry.Status == HealthStatus.Healthy
                ? "ok"
                : UrlRedaction.Redact(entry.Description ?? entry.Exception?.Message ?? entry.Status.ToString());
        }

        return new AggregatorHealthReport(report.Status, "running", shown);
    }
}
