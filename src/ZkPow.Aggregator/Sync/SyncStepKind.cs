namespace ZkPow.Aggregator.Sync;

/// <summary>What one sync step did.</summary>
public enum SyncStepKind
{
    /// <summary>A block range was processed and the cursor moved.</summary>
    Advanced,

    /// <summary>No confirmed block to process yet.</summary>
    UpToDate,

    /// <summary>Something the range needs is not available yet (the rollup node is behind): nothing written, retried later.</summary>
    Waiting,

    /// <summary>A processed block is no longer canonical: everything above the fork point was rolled back.</summary>
    Reorged,

    /// <summary>An RPC failed or answered garbage: nothing written, retried with backoff.</summary>
    Failed,
}
