namespace ZkPow.Aggregator.Sync;

/// <summary>The rollup events the sync records. The numeric values are stored; do not renumber.</summary>
public enum SyncEventKind
{
    SequenceBatches = 0,
    SubmitProofHash = 1,
    VerifyBatches = 2,
    RewardPaid = 3,
    Slashed = 4,
    SetProofHashCommitEpoch = 5,
    SetProofCommitEpoch = 6,
}
