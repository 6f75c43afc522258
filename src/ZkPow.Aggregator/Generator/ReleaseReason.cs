namespace ZkPow.Aggregator.Generator;

/// <summary>Why an assigned task goes back to the pool.</summary>
public enum ReleaseReason
{
    /// <summary>The prover computed and failed, or sent an unusable proof: counts an attempt and notes the prover.</summary>
    Failed,

    /// <summary>The job is gone (disconnect, unknown job id, lease expired): counts an attempt.</summary>
    Lost,

    /// <summary>The prover restarted (a new instance of it connected): its jobs are gone, whichever replica runs them.
    /// Counts an attempt like <see cref="Lost"/>.</summary>
    Restarted,

    /// <summary>Given back without any fault (for example on shutdown): no attempt counted.</summary>
    Unassigned,
}
