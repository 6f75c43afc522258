namespace ZkPow.Aggregator.Sync;

/// <summary>A batch as the rollup node reports it (<c>zkevm_getBatchByNumber</c>); words are 32 bytes, addresses lower-case 0x-hex.</summary>
public sealed record RollupNodeBatch(
    ulong Number,
    string Coinbase,
    byte[] StateRoot,
    byte[] GlobalExitRoot,
    byte[] MainnetExitRoot,
    byte[] RollupExitRoot,
    byte[] LocalExitRoot,
    byte[] AccInputHash,
    ulong Timestamp,
    string? SendSequencesTxHash,
    string? VerifyBatchTxHash,
    bool Closed,
    byte[] BatchL2Data);
