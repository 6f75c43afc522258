namespace ZkPow.Aggregator.Chain;

/// <summary>The custom errors of the rollup contract (and its stake contract), decoded by selector.</summary>
public enum ChainError
{
    /// <summary>Reverted with data this build does not know (or with none), see <see cref="ChainRevert.Message"/>.</summary>
    Unknown = 0,

    /// <summary>The caller holds a hash for this round already, or (reveal) committed none.</summary>
    CommittedProofHash,

    /// <summary>The sequence is verified already, or the caller proved it already.</summary>
    CommittedProof,

    /// <summary>The hash window is closed: more than T1 blocks since the round start.</summary>
    CommittedTimeout,

    /// <summary>The caller's stake is below the minimum.</summary>
    InsufficientPledge,

    /// <summary>A second <c>sequenceBatches</c> in one block.</summary>
    CommittedBatches,

    /// <summary>The proof window is not open yet (before start + T1).</summary>
    SubmitProofEarly,

    /// <summary>The proof window closed with no proof landed (after start + T1 + T2).</summary>
    SubmitProofTooLate,

    /// <summary>The caller's hash belongs to an older round.</summary>
    ErrCommitProof,

    /// <summary><c>initNumBatch</c> is not the previous sequence's last batch.</summary>
    ErrSequencerRange,

    /// <summary>The predecessor sequence is not verified yet.</summary>
    InitNumBatchAboveLastVerifiedBatch,

    OldStateRootDoesNotExist,

    /// <summary>A limb of the new state root is not inside the Goldilocks field.</summary>
    NewStateRootNotInsidePrime,

    OnlyAdmin,
    OnlyProverOrAdmin,
    SequenceZeroBatches,
    OldAccInputHashDoesNotExist,
    NewAccInputHashDoesNotExist,
    RewardTransferFailed,

    /// <summary>Stake contract: only the rollup may call.</summary>
    OnlyRollup,

    /// <summary>Stake contract: a withdrawal above the stake.</summary>
    InsufficientDeposit,

    /// <summary>Stake contract: a transfer of native currency failed.</summary>
    TransferFailed,

    /// <summary>Stake contract: an amount of zero.</summary>
    ZeroAmount,

    /// <summary>Stake contract: a re-entrant call.</summary>
    Reentrancy,

    /// <summary>Reverted with a plain <c>Error(string)</c> reason.</summary>
    ErrorString,

    /// <summary>Reverted with a <c>Panic(uint256)</c> (assertion, overflow, ...).</summary>
    Panic,
}
