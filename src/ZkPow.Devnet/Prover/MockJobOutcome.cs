using ZkPow.Aggregator.Protocol;

namespace ZkPow.Devnet.Prover;

/// <summary>What a job yields when it completes: a recursive proof, a final proof, or a failure reason.</summary>
internal sealed record MockJobOutcome(string? RecursiveProof, FinalProof? FinalProof, string? Error)
{
    public static MockJobOutcome Recursive(string proof) => new(proof, null, null);

    public static MockJobOutcome Final(FinalProof proof) => new(null, proof, null);

    public static MockJobOutcome Failed(string error) => new(null, null, error);
}
