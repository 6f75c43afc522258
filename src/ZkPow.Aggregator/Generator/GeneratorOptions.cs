namespace ZkPow.Aggregator.Generator;

/// <summary>How the Proof Generator hands out and retries work.</summary>
public sealed class GeneratorOptions
{
    /// <summary>Attempts (failures and lost jobs) after which a task is parked for an operator. Example: 5.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Lease of an assigned task, renewed while its prover answers polls. Example: <c>30s</c>.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a job whose prover dropped its stream is kept for that same prover instance to come back
    /// and be polled again, before the task is given to another prover. Example: <c>10s</c>.</summary>
    public TimeSpan ReconnectGrace { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Most bytes of recursive proofs kept in memory for the aggregations that consume them (a proof counts
    /// two bytes a character); past it the oldest are evicted and read back from the store when needed.
    /// Example: 268435456 (256 MiB).</summary>
    public long ProofCacheBytes { get; set; } = 256L * 1024 * 1024;

    public void Validate()
    {
        if (MaxAttempts is < 1 or > 1000)
        {
            throw new OptionsException("Generator:MaxAttempts", "must be between 1 and 1000");
        }

        if (Lease < TimeSpan.FromMilliseconds(100))
        {
            throw new OptionsException("Generator:Lease", "must be at least 100ms");
        }

        if (ReconnectGrace < TimeSpan.Zero)
        {
            throw new OptionsException("Generator:ReconnectGrace", "must not be negative");
        }

        if (ProofCacheBytes is < 0 or > 64L * 1024 * 1024 * 1024)
        {
            throw new OptionsException("Generator:ProofCacheBytes", "must be between 0 (no cache) and 68719476736 (64 GiB)");
        }
    }
}
