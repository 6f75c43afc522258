namespace ZkPow.Aggregator.Chain;

/// <summary><c>SequenceBatches(uint64 indexed numBatch)</c>: a sequence ending at <c>NumBatch</c> was sequenced.</summary>
public sealed record SequenceBatchesEvent(ulong BlockNumber, string BlockHash, string TransactionHash, int LogIndex, ulong NumBatch)
    : RollupEvent(BlockNumber, BlockHash, TransactionHash, LogIndex);
