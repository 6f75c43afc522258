namespace ZkPow.Aggregator.Sync;

/// <summary>A sequence as the sync recorded it: where it was sequenced, its acc input hash, and the decision.</summary>
public sealed record SyncedSequence(
    ulong FinalBatch,
    ulong InitBatch,
    ulong BlockNumber,
    string BlockHash,
    string TransactionHash,
    byte[] AccInputHash,
    SyncSequenceStatus Status,
    string? Reason);
