namespace ZkPow.Aggregator.Chain;

/// <summary>What a final proof claims about a sequence (<paramref name="InitNumBatch"/>, <paramref name="FinalNewBatch"/>]: the roots
/// the SNARK input is built from. Words are 32 bytes.</summary>
public sealed record ProofClaim(ulong InitNumBatch, ulong FinalNewBatch, byte[] NewLocalExitRoot, byte[] OldStateRoot, byte[] NewStateRoot)
{
    public void Validate()
    {
        if (FinalNewBatch <= InitNumBatch)
        {
            throw new ArgumentException($"({InitNumBatch},{FinalNewBatch}] is not a sequence");
        }

        if (NewLocalExitRoot is not { Length: 32 } || OldStateRoot is not { Length: 32 } || NewStateRoot is not { Length: 32 })
        {
            throw new ArgumentException("roots must be 32 bytes");
        }
    }
}
