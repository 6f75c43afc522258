namespace ZkPow.Aggregator.Generator;

/// <summary>How the Proof Generator hands out and retries work.</summary>
public sealed class GeneratorOptions
{
    /// <summary>Attempts (failures and lost jobs) after which a task is parked for an operator, once it has failed on at
    /// least two different provers (or only one prover was ever connected). Example: 5.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Lease of an assigned task, renewed while its prover answers polls. Example: <c>30s</c>.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a job whose prover dropped its stream is kept for that same prover instance to come back
    /// and be polled again, before the task is given to another prover. Example: <c>10s</c>.</summary>
    public TimeSpan ReconnectGrace { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the store is asked for assigned tasks whose lease expired and that no job of this process is
    /// running (a failed outcome write, a prover lost between pick and request); they are given back. Store errors are
    /// retried with a backoff up to this interval. Example: <c>5s</c>.</summary>
    public TimeSpan LeaseSweepInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Shortest maximum job time, whatever the learned durations: a job without a proof after
    /// max(<see cref="MaxJobTime"/>, <see cref="MaxJobTimeFactor"/> × the learned duration of its kind) is cancelled
    /// on its prover (counted as a failure of that prover) and given to another prover. Example: <c>10m</c>.</summary>
    public TimeSpan MaxJobTime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How many times the learned duration of a task kind (the larger of the prover's own and the fleet's)
    /// a job of that kind may take before it is cancelled, when that is above <see cref="MaxJobTime"/>. Example: 4.</summary>
    public double MaxJobTimeFactor { get; set; } = 4;

    /// <summary>Jobs failed in a row (failed, sent an unusable proof, exceeded the maximum job time, or lost) after which a
    /// prover gets no work for a while (quarantined). Example: 3.</summary>
    public int QuarantineAfter { get; set; } = 3;

    /// <summary>First quarantine of a prover; doubled at every further quarantine until it has a success again.
    /// Example: <c>30s</c>.</summary>
    public TimeSpan QuarantineBase { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest quarantine. Example: <c>30m</c>.</summary>
    public TimeSpan QuarantineMax { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Times the range of a sequence may be proved again because an aggregation or final task failed on two
    /// provers (its inputs are suspect); beyond it such a task is parked for an operator. Example: 8.</summary>
    public int MaxReprovesPerSequence { get; set; } = 8;

    /// <summary>Most bytes of recursive proofs kept in memory for the aggregations that consume them (a proof counts
    /// two bytes a character); past it the oldest are evicted and read back from the store when needed.
    /// Example: 268435456 (256 MiB).</summary>
    public long ProofCacheBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Most bytes of proofs received from provers and not stored yet; past it, a prover that finished a job
    /// gets its next one only once the store has caught up (the store is the bottleneck: memory stays bounded).
    /// Example: 268435456 (256 MiB).</summary>
    public long MaxPendingOutcomeBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Whether a batch or aggregation request waits until its claim is committed. A final proof's request
    /// always does, and so does every request on a store shared by replicas (PostgreSQL), where another replica may win
    /// the claim. On SQLite one process owns the ready set and its claims cannot be lost, so by default the request goes
    /// out while the claim commits. Example: <c>false</c>.</summary>
    public bool ClaimBeforeSend { get; set; }

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

        if (LeaseSweepInterval < TimeSpan.FromMilliseconds(50) || LeaseSweepInterval > TimeSpan.FromMinutes(10))
        {
            throw new OptionsException("Generator:LeaseSweepInterval", "must be between 50ms and 10m");
        }

        if (MaxJobTime < TimeSpan.FromMilliseconds(100))
        {
            throw new OptionsException("Generator:MaxJobTime", "must be at least 100ms (a job is cancelled after it)");
        }

        if (double.IsNaN(MaxJobTimeFactor) || MaxJobTimeFactor is < 1.5 or > 1000)
        {
            throw new OptionsException("Generator:MaxJobTimeFactor", "must be between 1.5 and 1000 (jobs vary in length)");
        }

        if (QuarantineAfter is < 1 or > 1000)
        {
            throw new OptionsException("Generator:QuarantineAfter", "must be between 1 and 1000");
        }

        if (QuarantineBase <= TimeSpan.Zero)
        {
            throw new OptionsException("Generator:QuarantineBase", "must be a positive duration such as 30s");
        }

        if (QuarantineMax < QuarantineBase)
        {
            throw new OptionsException("Generator:QuarantineMax", "must not be below Generator:QuarantineBase");
        }

        if (MaxReprovesPerSequence is < 0 or > 1000)
        {
            throw new OptionsException("Generator:MaxReprovesPerSequence", "must be between 0 and 1000");
        }

        if (MaxPendingOutcomeBytes is < 1024 * 1024 or > 64L * 1024 * 1024 * 1024)
        {
            throw new OptionsException("Generator:MaxPendingOutcomeBytes", "must be between 1048576 (1 MiB) and 68719476736 (64 GiB)");
        }

        if (ProofCacheBytes is < 0 or > 64L * 1024 * 1024 * 1024)
        {
            throw new OptionsException("Generator:ProofCacheBytes", "must be between 0 (no cache) and 68719476736 (64 GiB)");
        }
    }
}
