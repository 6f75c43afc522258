using System.Numerics;
using ZkPow.Aggregator.Chain;

namespace ZkPow.Devnet.Chain;

/// <summary>Call data for the devnet's own calls of the rollup and stake contracts (what a miner sends is in <see cref="RollupCalls"/>).</summary>
internal static class ContractCalls
{
    // ---- rollup: transactions

    public static byte[] SequenceBatches(IReadOnlyList<DevBatch> batches, string l2Coinbase) =>
        Abi.Call(
            "sequenceBatches((bytes,bytes32,uint64,uint64)[],address)",
            AbiArg.Array([.. batches.Select(b => AbiArg.Tuple(
                AbiArg.Bytes(b.Transactions),
                AbiArg.Bytes32(b.GlobalExitRoot),
                AbiArg.Uint(b.Timestamp),
                AbiArg.Uint(b.MinForcedTimestamp)))]),
            AbiArg.Address(l2Coinbase));

    public static byte[] SetProofHashCommitEpoch(byte blocks) => Abi.Call("setProofHashCommitEpoch(uint8)", AbiArg.Uint(blocks));

    public static byte[] SetProofCommitEpoch(byte blocks) => Abi.Call("setProofCommitEpoch(uint8)", AbiArg.Uint(blocks));

    public static byte[] SetRewardPerSequence(BigInteger wei) => Abi.Call("setRewardPerSequence(uint256)", AbiArg.Uint(wei));

    // ---- rollup: views

    public static byte[] RoundStakeTotal(ulong finalNewBatch) => Abi.Call("roundStakeTotal(uint64)", AbiArg.Uint(finalNewBatch));

    public static byte[] OpenCommitmentsOf(string prover) => Abi.Call("openCommitmentsOf(address)", AbiArg.Address(prover));

    public static byte[] RewardPool() => Abi.Call("rewardPool()");

    // ---- stake contract

    public static byte[] Deposit() => Abi.Call("deposit()");

    public static byte[] Withdraw(BigInteger wei) => Abi.Call("withdraw(uint256)", AbiArg.Uint(wei));

    public static byte[] DepositOf(string miner) => Abi.Call("depositOf(address)", AbiArg.Address(miner));
}
