namespace ZkPow.Aggregator.Sync;

/// <summary>One recorded rollup event. <see cref="Account"/> is the prover or aggregator (lower-case), <see cref="Value"/>
/// an amount in wei, a window length in blocks, or (for a proof hash) the round start read when it was synced.</summary>
public sealed record SyncEventRecord(
    ulong BlockNumber,
    string BlockHash,
    int LogIndex,
    SyncEventKind Kind,
    ulong? FinalBatch,
    string? Account,
    string? Value);
