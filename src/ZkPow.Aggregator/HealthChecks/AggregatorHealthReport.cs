using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ZkPow.Aggregator.HealthChecks;

/// <summary>What <c>/health/ready</c> answers: <see cref="Status"/> (healthy, degraded, unhealthy), the phase, and per
/// check <c>ok</c> or what is wrong (URLs redacted).</summary>
public sealed record AggregatorHealthReport(HealthStatus Status, string Phase, IReadOnlyDictionary<string, string> Checks)
{
    /// <summary>Ready (HTTP 200, SERVING) unless unhealthy.</summary>
    public bool Ready => Status != HealthStatus.Unhealthy;

    public string StatusText => Status.ToString().ToLowerInvariant();
}
