namespace ZkPow.Devnet.Tests.Proof;

internal sealed record VectorBatch(
    ulong Number,
    byte[] Transactions,
    byte[] GlobalExitRoot,
    ulong Timestamp,
    byte[] TxHash,
    byte[] StateRoot,
    byte[] AccInputHash,
    byte[] LocalExitRoot);
