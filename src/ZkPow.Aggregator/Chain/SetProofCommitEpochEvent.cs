namespace ZkPow.Aggregator.Chain;

/// <summary><c>SetProofCommitEpoch(uint8)</c>: T2 changed.</summary>
public sealed record SetProofCommitEpochEvent(ulong BlockNumber, string BlockHash, string TransactionHash, int LogIndex, byte T2)
    : RollupEvent(BlockNumber, BlockHash, TransactionHash, LogIndex);
