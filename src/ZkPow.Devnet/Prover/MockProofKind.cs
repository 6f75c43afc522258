namespace ZkPow.Devnet.Prover;

/// <summary>The three kinds of prover jobs.</summary>
public enum MockProofKind
{
    Batch = 0,
    Aggregated = 1,
    Final = 2,
}
