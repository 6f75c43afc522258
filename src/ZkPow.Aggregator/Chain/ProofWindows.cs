namespace ZkPow.Aggregator.Chain;

/// <summary>The contract's windows in base-chain blocks: T1 (<c>proofHashCommitEpoch</c>) and T2 (<c>proofCommitEpoch</c>).</summary>
public readonly record struct ProofWindows(byte T1, byte T2)
{
    /// <summary>The hash window is open at <paramref name="block"/> for a round that started at <paramref name="roundStart"/> (0 = none yet).</summary>
    public bool HashWindowOpen(ulong roundStart, ulong block) => roundStart == 0 || block - roundStart <= T1;

    /// <summary>First block of the proof window.</summary>
    public ulong ProofWindowStart(ulong roundStart) => roundStart + T1;

    /// <summary>Last block of the proof window while no proof has landed.</summary>
    public ulong ProofWindowEnd(ulong roundStart) => roundStart + T1 + T2;
}
