namespace ZkPow.Aggregator.Chain;

/// <summary>Call data for the rollup contract's functions (see base-chain-contract.md).</summary>
public static class RollupCalls
{
    /// <summary><c>submitProofHash(uint64 initNumBatch, uint64 finalNewBatch, bytes32 proofHash)</c>.</summary>
    public static byte[] SubmitProofHash(ulong initNumBatch, ulong finalNewBatch, ReadOnlySpan<byte> proofHash) =>
        Abi.Call("submitProofHash(uint64,uint64,bytes32)", AbiArg.Uint(initNumBatch), AbiArg.Uint(finalNewBatch), AbiArg.Bytes32(proofHash));

    /// <summary><c>verifyBatches(uint64, uint64, bytes32 newLocalExitRoot, bytes32 newStateRoot, bytes proof)</c>.</summary>
    public static byte[] VerifyBatches(ulong initNumBatch, ulong finalNewBatch, ReadOnlySpan<byte> newLocalExitRoot, ReadOnlySpan<byte> newStateRoot,
        ReadOnlySpan<byte> proof) =>
        Abi.Call("verifyBatches(uint64,uint64,bytes32,bytes32,bytes)", AbiArg.Uint(initNumBatch), AbiArg.Uint(finalNewBatch),
            AbiArg.Bytes32(newLocalExitRoot), AbiArg.Bytes32(newStateRoot), AbiArg.Bytes(proof));

    /// <summary><c>settle(address prover)</c>: applies the lazy slashes of the prover's overdue commitments.</summary>
    public static byte[] Settle(string prover) => Abi.Call("settle(address)", AbiArg.Address(prover));

    internal static byte[] SequencedBatches(ulong finalNewBatch) => Abi.Call("sequencedBatches(uint64)", AbiArg.Uint(finalNewBatch));

    internal static byte[] ProofHashCommitEpoch() => Abi.Call("proofHashCommitEpoch()");

    internal static byte[] ProofCommitEpoch() => Abi.Call("proofCommitEpoch()");

    internal static byte[] LastVerifiedBatch() => Abi.Call("lastVerifiedBatch()");

    internal static byte[] LastBatchSequenced() => Abi.Call("lastBatchSequenced()");

    internal static byte[] BatchNumToStateRoot(ulong batch) => Abi.Call("batchNumToStateRoot(uint64)", AbiArg.Uint(batch));

    internal static byte[] ChainId() => Abi.Call("chainID()");

    internal static byte[] ForkId() => Abi.Call("forkID()");

    internal static byte[] RollupVerifier() => Abi.Call("rollupVerifier()");

    internal static byte[] ProverCommitProofHash(ulong finalNewBatch, string prover) =>
        Abi.Call("proverCommitProofHash(uint64,address)", AbiArg.Uint(finalNewBatch), AbiArg.Address(prover));

    internal static byte[] GetInputSnarkBytes(ProofClaim claim) =>
        Abi.Call("getInputSnarkBytes(uint64,uint64,bytes32,bytes32,bytes32)", AbiArg.Uint(claim.InitNumBatch), AbiArg.Uint(claim.FinalNewBatch),
            AbiArg.Bytes32(claim.NewLocalExitRoot), AbiArg.Bytes32(claim.OldStateRoot), AbiArg.Bytes32(claim.NewStateRoot));

    internal static byte[] VerifyProof(ReadOnlySpan<byte> proof, System.Numerics.BigInteger snarkInput) =>
        Abi.Call("verifyProof(bytes,uint256[1])", AbiArg.Bytes(proof), AbiArg.Uint(snarkInput));
}
