namespace ZkPow.Aggregator.Chain;

/// <summary><c>RewardPaid(address indexed prover, uint64 indexed finalNewBatch, uint256 amount)</c> (wei).</summary>
public sealed record RewardPaidEvent(ulong BlockNumber, string BlockHash, string TransactionHash, int LogIndex, string Prover, ulong FinalNewBatch, System.Numerics.BigInteger Amount)
    : RollupEvent(BlockNumber, BlockHash, TransactionHash, LogIndex);
