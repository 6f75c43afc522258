namespace ZkPow.Aggregator.HealthChecks;

/// <summary>When <c>/health/ready</c> (and the gRPC health service on the prover port) says the aggregator is not ready
/// (section <c>Health</c>).</summary>
public sealed class HealthOptions
{
    /// <summary>How long the store, the base chain or the rollup node may be unreachable before readiness fails
    /// (duration, e.g. <c>30s</c>); within it the check reports <c>degraded</c>.</summary>
    public TimeSpan UnreachableGrace { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Blocks the sync may lag the chain before readiness fails (count, e.g. <c>20</c>); unset: the sync's
    /// confirmation depth plus 10.</summary>
    public int? MaxSyncLagBlocks { get; set; }

    /// <summary>Fewer connected provers than this report <c>degraded</c> (count, e.g. <c>1</c>; 0, the default, never).</summary>
    public int MinProvers { get; set; }

    /// <summary>How long one check may take before it counts as unreachable (duration, e.g. <c>5s</c>).</summary>
    public TimeSpan CheckTimeout { get; set; } = TimeSpan.FromSeconds(5);

    public void Validate()
    {
        if (UnreachableGrace < TimeSpan.Zero || UnreachableGrace > TimeSpan.FromHours(1))
        {
            throw new OptionsException("Health:UnreachableGrace", "must be between 0 and 1h");
        }

        if (MaxSyncLagBlocks is < 0 or > 1_000_000)
        {
            throw new OptionsException("Health:MaxSyncLagBlocks", "must be between 0 and 1000000 blocks");
        }

        if (MinProvers is < 0 or > 100_000)
        {
            throw new OptionsException("Health:MinProvers", "must be between 0 and 100000");
        }

        if (CheckTimeout < TimeSpan.FromMilliseconds(100) || CheckTimeout > TimeSpan.FromMinutes(1))
        {
            throw new OptionsException("Health:CheckTimeout", "must be between 100ms and 1m");
        }
    }
}
