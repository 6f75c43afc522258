using ZkPow.Aggregator.Chain;

namespace ZkPow.Devnet.Proof;

/// <summary>A sequence of consecutive devnet batches (at least one) of one rollup and one L2 coinbase.</summary>
public sealed record DevnetSequence
{
    public DevnetSequence(ulong chainId, ulong forkId, string coinbase, IReadOnlyList<DevnetBatch> batches)
    {
        ArgumentNullException.ThrowIfNull(batches);
        if (batches.Count == 0)
        {
            throw new ArgumentException("a sequence has at least one batch", nameof(batches));
        }

        for (var i = 1; i < batches.Count; i++)
        {
            if (batches[i].Number != batches[i - 1].Number + 1)
            {
                throw new ArgumentException("batch numbers are not consecutive", nameof(batches));
            }
        }

        ChainId = chainId;
        ForkId = forkId;
        Coinbase = coinbase;
        Batches = batches;
    }

    public ulong ChainId { get; }

    public ulong ForkId { get; }

    public string Coinbase { get; }

    public IReadOnlyList<DevnetBatch> Batches { get; }

    /// <summary>The last batch before the sequence.</summary>
    public ulong InitNumBatch => Batches[0].Number - 1;

    /// <summary>The last batch of the sequence.</summary>
    public ulong FinalNewBatch => Batches[^1].Number;

    public byte[] OldStateRoot => Batches[0].OldStateRoot;

    public byte[] OldAccInputHash => Batches[0].OldAccInputHash;

    public byte[] NewStateRoot => Batches[^1].StateRoot;

    public byte[] NewAccInputHash => Batches[^1].AccInputHash;

    public byte[] NewLocalExitRoot => Batches[^1].LocalExitRoot;

    /// <summary>The devnet final proof of this sequence for the given aggregator (sender) address.</summary>
    public DevnetFinalProof ToFinalProof(string aggregator) => new(
        HexData.DecodeAddress(aggregator), ChainId, ForkId, InitNumBatch, FinalNewBatch,
        OldStateRoot, OldAccInputHash, NewStateRoot, NewAccInputHash, NewLocalExitRoot,
        HexData.DecodeAddress(Coinbase),
        Batches.Select(b => b.ComputeTxHash()).ToArray(),
        Batches.Select(b => b.GlobalExitRoot).ToArray(),
        Batches.Select(b => b.Timestamp).ToArray());
}
