namespace ZkPow.Aggregator.Sync;

/// <summary>Everything the sync learned from one block range, written in one transaction together with the new cursor.</summary>
public sealed record SyncRange(
    SyncCursor To,
    IReadOnlyList<SyncedSequence> Sequences,
    IReadOnlyList<SyncEventRecord> Events,
    IReadOnlyList<(ulong FinalBatch, string Reason)> Lost);
