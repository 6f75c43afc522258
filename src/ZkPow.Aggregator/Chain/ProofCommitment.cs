namespace ZkPow.Aggregator.Chain;

/// <summary><c>proverCommitProofHash(final, prover)</c>: the prover's commitment (zero hash and round start 0 when none).</summary>
public sealed record ProofCommitment(byte[] ProofHash, ulong RoundStart, bool Proved)
{
    public bool Exists => RoundStart != 0;
}
