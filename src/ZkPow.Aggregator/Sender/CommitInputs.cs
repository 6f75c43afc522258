using ZkPow.Aggregator.Chain;

namespace ZkPow.Aggregator.Sender;

/// <summary>
/// What the commit policy decides on, all read live from the contract at <see cref="Head"/>:
/// the windows, <c>lastVerifiedBatch</c>, the sequence's round start and <c>proofSubmitted</c>, and for every
/// unverified sequence between the last verified batch and this one (lowest first) the round start of <b>our own</b>
/// on-chain commitment to it, or null if we hold none. <see cref="RevealBlocks"/>: how many blocks one reveal takes from
/// the moment it can be sent to its inclusion, as seen lately (1 when every call answers at once; more behind a node
/// that fails or stalls).
/// </summary>
public sealed record CommitInputs(
    ulong Head,
    ProofWindows Windows,
    ulong LastVerifiedBatch,
    ulong InitBatch,
    ulong FinalBatch,
    ulong RoundStart,
    bool ProofSubmitted,
    IReadOnlyList<ulong?> UnverifiedPredecessorRounds,
    int RevealBlocks = 1);
