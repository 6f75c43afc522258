namespace ZkPow.Aggregator.Sync;

/// <summary>A base-chain block the sync has processed, with its hash (to notice when it stops being canonical).</summary>
public sealed record SyncCursor(ulong BlockNumber, string BlockHash);
