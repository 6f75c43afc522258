namespace ZkPow.Aggregator.Chain;

/// <summary><c>SetProofHashCommitEpoch(uint8)</c>: T1 changed.</summary>
public sealed record SetProofHashCommitEpochEvent(ulong BlockNumber, string BlockHash, string TransactionHash, int LogIndex, byte T1)
    : RollupEvent(BlockNumber, BlockHash, TransactionHash, LogIndex);
