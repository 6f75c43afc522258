using Google.Protobuf;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Protocol;

namespace ZkPow.Devnet.Proof;

/// <summary>
/// One devnet batch with the roots before and after it. <see cref="Coinbase"/> is the sequence's L2 coinbase
/// (0x-hex address); words are 32 bytes.
/// </summary>
public sealed record DevnetBatch(
    ulong Number,
    byte[] Transactions,
    byte[] GlobalExitRoot,
    ulong Timestamp,
    string Coinbase,
    byte[] OldStateRoot,
    byte[] OldAccInputHash,
    byte[] StateRoot,
    byte[] AccInputHash,
    byte[] LocalExitRoot)
{
    /// <summary>Builds batch <paramref name="number"/> on top of the given roots, computing its own roots.</summary>
    public static DevnetBatch Create(ulong number, byte[] transactions, byte[] globalExitRoot, ulong timestamp,
        string coinbase, byte[] oldStateRoot, byte[] oldAccInputHash)
    {
        ArgumentNullException.ThrowIfNull(transactions);
        var coinbaseBytes = HexData.DecodeAddress(coinbase);
        var txHash = DevnetRules.Keccak256(transactions);
        var stateRoot = DevnetRules.NextStateRoot(oldStateRoot, txHash, globalExitRoot, timestamp, coinbaseBytes);
        var accInputHash = DevnetRules.NextAccInputHash(oldAccInputHash, txHash, globalExitRoot, timestamp, coinbaseBytes);
        return new DevnetBatch(number, transactions, globalExitRoot, timestamp, coinbase, oldStateRoot, oldAccInputHash,
            stateRoot, accInputHash, DevnetRules.LocalExitRoot(stateRoot));
    }

    /// <summary>keccak256 of the batch's transactions (computed on each call).</summary>
    public byte[] ComputeTxHash() => DevnetRules.Keccak256(Transactions);

    /// <summary>
    /// The prover input for this batch (prover-protocol.md, "Where the inputs come from"): old roots of batch n-1,
    /// old_batch_num = n-1, this batch's data, timestamp, global exit root and coinbase.
    /// </summary>
    public InputProver ToInputProver(ulong chainId, ulong forkId, string aggregatorAddr = "") => new()
    {
        PublicInputs = new PublicInputs
        {
            OldStateRoot = ByteString.CopyFrom(OldStateRoot),
            OldAccInputHash = ByteString.CopyFrom(OldAccInputHash),
            OldBatchNum = Number - 1,
            ChainId = chainId,
            ForkId = forkId,
            BatchL2Data = ByteString.CopyFrom(Transactions),
            GlobalExitRoot = ByteString.CopyFrom(GlobalExitRoot),
            EthTimestamp = Timestamp,
            SequencerAddr = Coinbase,
            AggregatorAddr = aggregatorAddr,
        },
    };
}
