namespace ZkPow.Devnet.Prover;

/// <summary>What a recursive proof remembers of one batch: enough to rebuild the final proof.</summary>
public sealed record MockBatchDigest(string TxHash, string GlobalExitRoot, ulong Timestamp);
