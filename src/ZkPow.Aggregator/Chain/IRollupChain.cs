namespace ZkPow.Aggregator.Chain;

/// <summary>
/// What the aggregator reads from the base chain's rollup contract. Reads are at the latest block unless pinned to a
/// block number; the head never goes backwards (the highest seen from any endpoint). Transport failures throw
/// <see cref="ChainUnavailableException"/>; a revert the caller can expect is a result value.
/// </summary>
public interface IRollupChain
{
    /// <summary>The rollup contract's address.</summary>
    string RollupAddress { get; }

    Task<ulong> GetBlockNumberAsync(CancellationToken cancellationToken);

    /// <summary><c>sequencedBatches(final)</c>: acc input hash, previous last batch (= initNumBatch), round start and proofSubmitted.</summary>
    Task<SequencedBatch> GetSequenceAsync(ulong finalNewBatch, CancellationToken cancellationToken);

    /// <summary>As <see cref="GetSequenceAsync(ulong, CancellationToken)"/>, read at block <paramref name="atBlock"/>
    /// (null = latest); a backend that does not have that block yet is retried elsewhere.</summary>
    Task<SequencedBatch> GetSequenceAsync(ulong finalNewBatch, ulong? atBlock, CancellationToken cancellationToken);

    /// <summary>T1 and T2, in blocks.</summary>
    Task<ProofWindows> GetProofWindowsAsync(CancellationToken cancellationToken);

    Task<ulong> GetLastVerifiedBatchAsync(CancellationToken cancellationToken);

    Task<ulong> GetLastBatchSequencedAsync(CancellationToken cancellationToken);

    /// <summary><c>batchNumToStateRoot(batch)</c> (32 zero bytes when unknown).</summary>
    Task<byte[]> GetStateRootAsync(ulong batch, CancellationToken cancellationToken);

    /// <summary>The rollup's <c>chainID()</c> and <c>forkID()</c>.</summary>
    Task<RollupIdentity> GetRollupIdentityAsync(CancellationToken cancellationToken);

    /// <summary><c>proverCommitProofHash(final, prover)</c>.</summary>
    Task<ProofCommitment> GetCommitmentAsync(ulong finalNewBatch, string prover, CancellationToken cancellationToken);

    /// <summary>As <see cref="GetCommitmentAsync(ulong, string, CancellationToken)"/>, read at block <paramref name="atBlock"/> (null = latest).</summary>
    Task<ProofCommitment> GetCommitmentAsync(ulong finalNewBatch, string prover, ulong? atBlock, CancellationToken cancellationToken);

    /// <summary><c>getInputSnarkBytes(...)</c> called with <c>from</c> = <paramref name="miner"/>.</summary>
    Task<ChainCallResult<byte[]>> GetInputSnarkBytesAsync(string miner, ProofClaim claim, CancellationToken cancellationToken);

    /// <summary>Asks the rollup's verifier whether <paramref name="proof"/> proves <paramref name="claim"/> for
    /// <paramref name="miner"/>: <c>verifyProof(proof, [sha256(snarkBytes) % RFIELD])</c> through <c>eth_call</c>.</summary>
    Task<ProofCheck> CheckProofAsync(string miner, ProofClaim claim, byte[] proof, CancellationToken cancellationToken);

    /// <summary>The rollup's events in blocks [<paramref name="fromBlock"/>, <paramref name="toBlock"/>], in chain order.</summary>
    Task<IReadOnlyList<RollupEvent>> GetEventsAsync(ulong fromBlock, ulong toBlock, CancellationToken cancellationToken);
}
