namespace ZkPow.Aggregator.Chain;

/// <summary><c>VerifyBatchesTrustedAggregator(uint64 indexed numBatch, bytes32 stateRoot, address indexed aggregator)</c>: the first valid proof of a sequence landed.</summary>
public sealed record VerifyBatchesEvent(ulong BlockNumber, string BlockHash, string TransactionHash, int LogIndex, ulong NumBatch, byte[] StateRoot, string Aggregator)
    : RollupEvent(BlockNumber, BlockHash, TransactionHash, LogIndex);
