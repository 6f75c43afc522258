namespace ZkPow.Aggregator.Generator;

/// <summary>Why an assigned task goes back to the pool.</summary>
public enum ReleaseReason
{
    /// <summary>The prover computed and failed, or sent an unusable proof: counts an attempt and notes the prover.</summary>
    Failed,

    /// <summary>The job is gone (disconnect, unknown job id, lease expired): counts an attempt.</summary>
    Lost,

    /// <summary>Given back without any fault (for example on shutdown): no attempt counted.</summary>
    Unassigned,
}
