namespace ZkPow.Aggregator.Sync;

/// <summary>What the sync decided about a sequence. The numeric values are stored; do not renumber.</summary>
public enum SyncSequenceStatus
{
    /// <summary>Cross-checked and handed to the Proof Generator.</summary>
    Accepted = 0,

    /// <summary>The rollup node, the call data and the contract disagree: never proved.</summary>
    Refused = 1,

    /// <summary>Verified by another miner before we committed: abandoned, never retried.</summary>
    Lost = 2,
}
