namespace ZkPow.Aggregator.Generator;

/// <summary>Life cycle of a proof task. The numeric values are stored; do not renumber.</summary>
public enum TaskState
{
    /// <summary>Inputs exist; waiting for an idle prover.</summary>
    Ready = 0,

    /// <summary>Claimed by a prover (name, instance, job id) under a lease.</summary>
    Assigned = 1,

    /// <summary>Proof stored.</summary>
    Done = 2,

    /// <summary>Failed too often, or cannot be sent; waits for an operator.</summary>
    Parked = 3,

    /// <summary>Its proof (or its inputs) turned out bad or stale; replaced by new tasks. Kept for the record.</summary>
    Discarded = 4,
}
