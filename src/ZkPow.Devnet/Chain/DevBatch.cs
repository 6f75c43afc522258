namespace ZkPow.Devnet.Chain;

/// <summary>One batch of a <c>sequenceBatches</c> call (the contract's <c>BatchData</c>).</summary>
internal sealed record DevBatch(byte[] Transactions, byte[] GlobalExitRoot, ulong Timestamp, ulong MinForcedTimestamp = 0);
