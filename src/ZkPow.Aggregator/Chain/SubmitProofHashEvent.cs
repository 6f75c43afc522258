namespace ZkPow.Aggregator.Chain;

/// <summary><c>SubmitProofHash(address prover, uint64 initNumBatch, uint64 finalNewBatch, bytes32 proofHash)</c>.</summary>
public sealed record SubmitProofHashEvent(ulong BlockNumber, string BlockHash, string TransactionHash, int LogIndex, string Prover, ulong InitNumBatch, ulong FinalNewBatch, byte[] ProofHash)
    : RollupEvent(BlockNumber, BlockHash, TransactionHash, LogIndex);
