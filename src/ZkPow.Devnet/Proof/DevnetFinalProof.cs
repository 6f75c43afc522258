namespace ZkPow.Devnet.Proof;

/// <summary>
/// The fields of a devnet final proof (devnet-proof.md), in the order they are ABI-encoded. Words are 32 bytes,
/// addresses 20 bytes; the three arrays have one entry per batch of the sequence. Equality compares contents.
/// </summary>
public sealed record DevnetFinalProof(
    byte[] Aggregator,
    ulong ChainId,
    ulong ForkId,
    ulong InitNumBatch,
    ulong FinalNewBatch,
    byte[] OldStateRoot,
    byte[] OldAccInputHash,
    byte[] NewStateRoot,
    byte[] NewAccInputHash,
    byte[] NewLocalExitRoot,
    byte[] L2Coinbase,
    IReadOnlyList<byte[]> TxHashes,
    IReadOnlyList<byte[]> GlobalExitRoots,
    IReadOnlyList<ulong> Timestamps)
{
    /// <summary>The ABI encoding of this proof (the bytes submitted on-chain).</summary>
    public byte[] Encode() => DevnetFinalProofCodec.Encode(this);

    /// <summary>The SNARK input of this proof for the given sender.</summary>
    public System.Numerics.BigInteger SnarkInput(ReadOnlySpan<byte> sender) => DevnetRules.SnarkInput(this, sender);

    public bool Equals(DevnetFinalProof? other) =>
        other is not null
        && ChainId == other.ChainId
        && ForkId == other.ForkId
        && InitNumBatch == other.InitNumBatch
        && FinalNewBatch == other.FinalNewBatch
        && Aggregator.AsSpan().SequenceEqual(other.Aggregator)
        && OldStateRoot.AsSpan().SequenceEqual(other.OldStateRoot)
        && OldAccInputHash.AsSpan().SequenceEqual(other.OldAccInputHash)
        && NewStateRoot.AsSpan().SequenceEqual(other.NewStateRoot)
        && NewAccInputHash.AsSpan().SequenceEqual(other.NewAccInputHash)
        && NewLocalExitRoot.AsSpan().SequenceEqual(other.NewLocalExitRoot)
        && L2Coinbase.AsSpan().SequenceEqual(other.L2Coinbase)
        && WordsEqual(TxHashes, other.TxHashes)
        && WordsEqual(GlobalExitRoots, other.GlobalExitRoots)
        && Timestamps.SequenceEqual(other.Timestamps);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(InitNumBatch);
        hash.Add(FinalNewBatch);
        hash.AddBytes(NewAccInputHash);
        hash.AddBytes(Aggregator);
        return hash.ToHashCode();
    }

    private static bool WordsEqual(IReadOnlyList<byte[]> left, IReadOnlyList<byte[]> right)
    {
        if (left.Count != right.Count)
        {
            return false;
        }

        for (var i = 0; i < left.Count; i++)
        {
            if (!left[i].AsSpan().SequenceEqual(right[i]))
            {
                return false;
            }
        }

        return true;
    }
}
