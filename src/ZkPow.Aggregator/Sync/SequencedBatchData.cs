namespace ZkPow.Aggregator.Sync;

/// <summary>One batch of a <c>sequenceBatches</c> call (the contract's <c>BatchData</c>).</summary>
public sealed record SequencedBatchData(byte[] Transactions, byte[] GlobalExitRoot, ulong Timestamp, ulong MinForcedTimestamp);
