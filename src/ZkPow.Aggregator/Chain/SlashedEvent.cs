namespace ZkPow.Aggregator.Chain;

/// <summary><c>Slashed(address indexed prover, uint64 indexed finalNewBatch, uint256 amount, uint8 reason)</c>: reason 1 = wrong reveal, 2 = commitment left unrevealed.</summary>
public sealed record SlashedEvent(ulong BlockNumber, string BlockHash, string TransactionHash, int LogIndex, string Prover, ulong FinalNewBatch, System.Numerics.BigInteger Amount, byte Reason)
    : RollupEvent(BlockNumber, BlockHash, TransactionHash, LogIndex);
