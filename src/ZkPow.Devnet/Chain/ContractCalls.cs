using System.Numerics;

namespace ZkPow.Devnet.Chain;

/// <summary>Call data for the functions of the rollup, stake and verifier contracts.</summary>
internal static class ContractCalls
{
    // ---- rollup: transactions

    public static byte[] SequenceBatches(IReadOnlyList<DevBatch> batches, string l2Coinbase) =>
        AbiEncoder.Call(
            "sequenceBatches((bytes,bytes32,uint64,uint64)[],address)",
            AbiValue.Array([.. batches.Select(b => AbiValue.Tuple(
                AbiValue.Bytes(b.Transactions),
                AbiValue.Bytes32(b.GlobalExitRoot),
                AbiValue.Uint(b.Timestamp),
                AbiValue.Uint(b.MinForcedTimestamp)))]),
            AbiValue.Address(l2Coinbase));

    public static byte[] SubmitProofHash(ulong initNumBatch, ulong finalNewBatch, byte[] proofHash) =>
        AbiEncoder.Call(
            "submitProofHash(uint64,uint64,bytes32)",
            AbiValue.Uint(initNumBatch),
            AbiValue.Uint(finalNewBatch),
            AbiValue.Bytes32(proofHash));

    public static byte[] VerifyBatches(ulong initNumBatch, ulong finalNewBatch, byte[] newLocalExitRoot, byte[] newStateRoot, byte[] proof) =>
        AbiEncoder.Call(
            "verifyBatches(uint64,uint64,bytes32,bytes32,bytes)",
            AbiValue.Uint(initNumBatch),
            AbiValue.Uint(finalNewBatch),
            AbiValue.Bytes32(newLocalExitRoot),
            AbiValue.Bytes32(newStateRoot),
            AbiValue.Bytes(proof));

    public static byte[] Settle(string prover) => AbiEncoder.Call("settle(address)", AbiValue.Address(prover));

    public static byte[] SetProofHashCommitEpoch(byte blocks) => AbiEncoder.Call("setProofHashCommitEpoch(uint8)", AbiValue.Uint(blocks));

    public static byte[] SetProofCommitEpoch(byte blocks) => AbiEncoder.Call("setProofCommitEpoch(uint8)", AbiValue.Uint(blocks));

    public static byte[] SetRewardPerSequence(BigInteger wei) => AbiEncoder.Call("setRewardPerSequence(uint256)", AbiValue.Uint(wei));

    // ---- rollup: views

    public static byte[] LastBatchSequenced() => AbiEncoder.Call("lastBatchSequenced()");

    public static byte[] LastVerifiedBatch() => AbiEncoder.Call("lastVerifiedBatch()");

    public static byte[] BatchNumToStateRoot(ulong batch) => AbiEncoder.Call("batchNumToStateRoot(uint64)", AbiValue.Uint(batch));

    /// <summary>Returns (bytes32 accInputHash, uint64 sequencedTimestamp, uint64 previousLastBatchSequenced, uint256 blockNumber, bool proofSubmitted).</summary>
    public static byte[] SequencedBatches(ulong finalNewBatch) => AbiEncoder.Call("sequencedBatches(uint64)", AbiValue.Uint(finalNewBatch));

    /// <summary>Returns (bytes32 proofHash, uint256 roundStart, bool proof).</summary>
    public static byte[] ProverCommitProofHash(ulong finalNewBatch, string prover) =>
        AbiEncoder.Call("proverCommitProofHash(uint64,address)", AbiValue.Uint(finalNewBatch), AbiValue.Address(prover));

    public static byte[] GetInputSnarkBytes(ulong initNumBatch, ulong finalNewBatch, byte[] newLocalExitRoot, byte[] oldStateRoot, byte[] newStateRoot) =>
        AbiEncoder.Call(
            "getInputSnarkBytes(uint64,uint64,bytes32,bytes32,bytes32)",
            AbiValue.Uint(initNumBatch),
            AbiValue.Uint(finalNewBatch),
            AbiValue.Bytes32(newLocalExitRoot),
            AbiValue.Bytes32(oldStateRoot),
            AbiValue.Bytes32(newStateRoot));

    public static byte[] RoundStakeTotal(ulong finalNewBatch) => AbiEncoder.Call("roundStakeTotal(uint64)", AbiValue.Uint(finalNewBatch));

    public static byte[] OpenCommitmentsOf(string prover) => AbiEncoder.Call("openCommitmentsOf(address)", AbiValue.Address(prover));

    public static byte[] RewardPool() => AbiEncoder.Call("rewardPool()");

    // ---- stake contract

    public static byte[] Deposit() => AbiEncoder.Call("deposit()");

    public static byte[] Withdraw(BigInteger wei) => AbiEncoder.Call("withdraw(uint256)", AbiValue.Uint(wei));

    public static byte[] DepositOf(string miner) => AbiEncoder.Call("depositOf(address)", AbiValue.Address(miner));

    // ---- verifier

    public static byte[] VerifyProof(byte[] proof, BigInteger snarkInput) =>
        AbiEncoder.Call("verifyProof(bytes,uint256[1])", AbiValue.Bytes(proof), AbiValue.Uint(snarkInput));
}
