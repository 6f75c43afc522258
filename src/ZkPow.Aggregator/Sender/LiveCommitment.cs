using ZkPow.Aggregator.Chain;

namespace ZkPow.Aggregator.Sender;

/// <summary>Our commitment to a sequence that is live on chain (see <see cref="ProofSender.LiveCommitmentAsync"/>), read at
/// block <paramref name="Head"/>, with the last block of its proof window (round start + T1 + T2).</summary>
internal sealed record LiveCommitment(ProofCommitment Commitment, ulong Head, ulong ProofWindowEnd)
{
    /// <summary>True while a reveal sent now (landing at <c>head + 1</c> at the earliest) can still land inside the proof
    /// window: the window is open, or not open yet. False once only a late reveal is left (some proof landed and the
    /// window has ended).</summary>
    public bool InWindow => Head + 1 <= ProofWindowEnd;
}
